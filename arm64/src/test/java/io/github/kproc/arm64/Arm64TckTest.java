package io.github.kproc.arm64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.kproc.arch.Platforms;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.tck.ArchFacts;
import io.github.kproc.tck.AtomicityContract;
import io.github.kproc.tck.VmapStackContract;
import io.github.kproc.tck.BadInputContract;
import io.github.kproc.tck.BundledProfileContract;
import io.github.kproc.tck.CfsContract;
import io.github.kproc.tck.ContextSwitchContract;
import io.github.kproc.tck.CopyProcessErrorsContract;
import io.github.kproc.tck.CopyThreadContract;
import io.github.kproc.tck.CredContract;
import io.github.kproc.tck.DoForkContract;
import io.github.kproc.tck.ChildTaskStructContract;
import io.github.kproc.tck.DupTaskStructContract;
import io.github.kproc.tck.ExitContract;
import io.github.kproc.tck.FaultInjectionContract;
import io.github.kproc.tck.ForkExitSoakContract;
import io.github.kproc.tck.ForkIdleContract;
import io.github.kproc.tck.ForkPropertiesContract;
import io.github.kproc.tck.FtraceContract;
import io.github.kproc.tck.KernelContract.Backend;
import io.github.kproc.tck.ExecContract;
import io.github.kproc.tck.KillContract;
import io.github.kproc.tck.MisuseFuzzContract;
import io.github.kproc.tck.NamespacesContract;
import io.github.kproc.tck.PeltContract;
import io.github.kproc.tck.PidsContract;
import io.github.kproc.tck.PreemptContract;
import io.github.kproc.tck.RcuContract;
import io.github.kproc.tck.RunqueuesContract;
import io.github.kproc.tck.SchedContract;
import io.github.kproc.tck.LoadBalanceContract;
import io.github.kproc.tck.SchedClustersContract;
import io.github.kproc.tck.SchedDomainsContract;
import io.github.kproc.tck.SchedForkContract;
import io.github.kproc.tck.SchedPropertiesContract;
import io.github.kproc.tck.SharingContract;
import io.github.kproc.tck.SysctlContract;
import io.github.kproc.tck.TestKitContract;
import io.github.kproc.tck.VmcoreContract;
import io.github.kproc.tck.WaitContract;
import io.github.kproc.view.ThreadInfo;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The whole TCK ({@code io.github.kproc.tck} of the kernel-model test-jar) on the bundled linux-4.19-arm64-defconfig
 * build: one {@code @Nested} class per contract, each giving the one factory
 * method. A nested class may add the backend's own checks of the same code path.
 */
class Arm64TckTest {
    /** The platform under test and the facts of its build. */
    static Backend backend() {
        return new Backend(Platforms.bundled(ArchFacts.ARM64_DEFCONFIG.profile()), ArchFacts.ARM64_DEFCONFIG);
    }

    @Nested
    class Atomicity extends AtomicityContract {
        @Override
        protected Backend backend() {
            return Arm64TckTest.backend();
        }
    }

    @Nested
    class BadInput extends BadInputContract {
        @Override
        protected Backend backend() {
            return Arm64TckTest.backend();
        }
    }

    @Nested
    class BundledProfile extends BundledProfileContract {
        @Override
        protected Backend backend() {
            return Arm64TckTest.backend();
        }
    }

    @Nested
    class Cfs extends CfsContract {
        @Override
        protected Backend backend() {
            return Arm64TckTest.backend();
        }
    }

    @Nested
    class ContextSwitch extends ContextSwitchContract {
        @Override
        protected Backend backend() {
            return Arm64TckTest.backend();
        }
    }

    @Nested
    class CopyProcessErrors extends CopyProcessErrorsContract {
        @Override
        protected Backend backend() {
            return Arm64TckTest.backend();
        }
    }

    @Nested
    class CopyThread extends CopyThreadContract {
        @Override
        protected Backend backend() {
            return Arm64TckTest.backend();
        }

        /** {@code TIF_SVE} (arch/arm64/include/asm/thread_info.h). */
        private static final int TIF_SVE = 23;

        @Test
        @DisplayName("copy_thread (arm64): clear_tsk_thread_flag(p, TIF_SVE) and p->thread.sve_state = NULL")
        void sveStateIsNotInherited() {
            Kernel k = boot(2);
            AddressSpace m = k.addressSpace();
            long init = address(k, 1);
            long sveState = platform().offsets().required("task_struct", "thread.sve_state");
            ThreadInfo parent = k.task(init).threadInfo();
            parent.flag(TIF_SVE, true);
            m.writeLong(init + sveState, 0xffff800012340000L);
            k.cpu(0).run(Pid.INIT);
            long child = address(k, k.cpu(0).fork().nr());
            assertFalse(k.task(child).threadInfo().testFlag(TIF_SVE));
            assertEquals(0, m.readLong(child + sveState));
            assertTrue(parent.testFlag(TIF_SVE), "the parent keeps its own");
        }
    }

    @Nested
    class Cred extends CredContract {
        @Override
        protected Backend backend() {
            return Arm64TckTest.backend();
        }
    }

    @Nested
    class DoFork extends DoForkContract {
        @Override
        protected Backend backend() {
            return Arm64TckTest.backend();
        }
    }

    @Nested
    class ChildTaskStruct extends ChildTaskStructContract {
        @Override
        protected Backend backend() {
            return Arm64TckTest.backend();
        }
    }

    @Nested
    class DupTaskStruct extends DupTaskStructContract {
        @Override
        protected Backend backend() {
            return Arm64TckTest.backend();
        }
    }

    @Nested
    class Exit extends ExitContract {
        @Override
        protected Backend backend() {
            return Arm64TckTest.backend();
        }
    }

    @Nested
    class FaultInjection extends FaultInjectionContract {
        @Override
        protected Backend backend() {
            return Arm64TckTest.backend();
        }
    }

    @Nested
    class ForkExitSoak extends ForkExitSoakContract {
        @Override
        protected Backend backend() {
            return Arm64TckTest.backend();
        }
    }

    @Nested
    class ForkIdle extends ForkIdleContract {
        @Override
        protected Backend backend() {
            return Arm64TckTest.backend();
        }
    }

    @Nested
    class ForkProperties extends ForkPropertiesContract {
        @Override
        protected Backend backend() {
            return Arm64TckTest.backend();
        }
    }

    @Nested
    class Ftrace extends FtraceContract {
        @Override
        protected Backend backend() {
            return Arm64TckTest.backend();
        }
    }

    @Nested
    class Namespaces extends NamespacesContract {
        @Override
        protected Backend backend() {
            return Arm64TckTest.backend();
        }
    }

    @Nested
    class Exec extends ExecContract {
        @Override
        protected Backend backend() {
            return Arm64TckTest.backend();
        }
    }

    @Nested
    class Kill extends KillContract {
        @Override
        protected Backend backend() {
            return Arm64TckTest.backend();
        }
    }

    @Nested
    class MisuseFuzz extends MisuseFuzzContract {
        @Override
        protected Backend backend() {
            return Arm64TckTest.backend();
        }
    }

    @Nested
    class Pelt extends PeltContract {
        @Override
        protected Backend backend() {
            return Arm64TckTest.backend();
        }
    }

    @Nested
    class Pids extends PidsContract {
        @Override
        protected Backend backend() {
            return Arm64TckTest.backend();
        }
    }

    @Nested
    class Preempt extends PreemptContract {
        @Override
        protected Backend backend() {
            return Arm64TckTest.backend();
        }
    }

    @Nested
    class Rcu extends RcuContract {
        @Override
        protected Backend backend() {
            return Arm64TckTest.backend();
        }
    }

    @Nested
    class Runqueues extends RunqueuesContract {
        @Override
        protected Backend backend() {
            return Arm64TckTest.backend();
        }
    }

    @Nested
    class SchedClusters extends SchedClustersContract {
        @Override
        protected Backend backend() {
            return Arm64TckTest.backend();
        }
    }

    @Nested
    class SchedDomains extends SchedDomainsContract {
        @Override
        protected Backend backend() {
            return Arm64TckTest.backend();
        }
    }

    @Nested
    class LoadBalance extends LoadBalanceContract {
        @Override
        protected Backend backend() {
            return Arm64TckTest.backend();
        }
    }

    @Nested
    class Sched extends SchedContract {
        @Override
        protected Backend backend() {
            return Arm64TckTest.backend();
        }
    }

    @Nested
    class SchedFork extends SchedForkContract {
        @Override
        protected Backend backend() {
            return Arm64TckTest.backend();
        }
    }

    @Nested
    class SchedProperties extends SchedPropertiesContract {
        @Override
        protected Backend backend() {
            return Arm64TckTest.backend();
        }
    }

    @Nested
    class Sharing extends SharingContract {
        @Override
        protected Backend backend() {
            return Arm64TckTest.backend();
        }
    }

    @Nested
    class Sysctl extends SysctlContract {
        @Override
        protected Backend backend() {
            return Arm64TckTest.backend();
        }
    }

    @Nested
    class TestKit extends TestKitContract {
        @Override
        protected Backend backend() {
            return Arm64TckTest.backend();
        }
    }

    @Nested
    class Vmcore extends VmcoreContract {
        @Override
        protected Backend backend() {
            return Arm64TckTest.backend();
        }
    }

    @Nested
    class Wait extends WaitContract {
        @Override
        protected Backend backend() {
            return Arm64TckTest.backend();
        }
    }

    @Nested
    class VmapStack extends VmapStackContract {
        @Override
        protected Backend backend() {
            return Arm64TckTest.backend();
        }
    }
}
