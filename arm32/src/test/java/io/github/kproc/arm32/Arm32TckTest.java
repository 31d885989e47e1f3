package io.github.kproc.arm32;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
import java.util.HexFormat;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The whole TCK ({@code io.github.kproc.tck} of the kernel-model test-jar) on the bundled linux-4.19-arm32-vexpress
 * build: one {@code @Nested} class per contract, each giving the one factory
 * method. A nested class may add the backend's own checks of the same code path.
 */
class Arm32TckTest {
    /** The platform under test and the facts of its build. */
    static Backend backend() {
        return new Backend(Platforms.bundled(ArchFacts.ARM32_VEXPRESS.profile()), ArchFacts.ARM32_VEXPRESS);
    }

    @Nested
    class Atomicity extends AtomicityContract {
        @Override
        protected Backend backend() {
            return Arm32TckTest.backend();
        }
    }

    @Nested
    class BadInput extends BadInputContract {
        @Override
        protected Backend backend() {
            return Arm32TckTest.backend();
        }
    }

    @Nested
    class BundledProfile extends BundledProfileContract {
        @Override
        protected Backend backend() {
            return Arm32TckTest.backend();
        }
    }

    @Nested
    class Cfs extends CfsContract {
        @Override
        protected Backend backend() {
            return Arm32TckTest.backend();
        }
    }

    @Nested
    class ContextSwitch extends ContextSwitchContract {
        @Override
        protected Backend backend() {
            return Arm32TckTest.backend();
        }
    }

    @Nested
    class CopyProcessErrors extends CopyProcessErrorsContract {
        @Override
        protected Backend backend() {
            return Arm32TckTest.backend();
        }
    }

    @Nested
    class CopyThread extends CopyThreadContract {
        @Override
        protected Backend backend() {
            return Arm32TckTest.backend();
        }

        @Test
        @DisplayName("copy_thread -> thread_notify(THREAD_NOTIFY_COPY) -> vfp_thread_copy: the parent's VFP state, hard.cpu = NR_CPUS")
        void vfpStateIsCopiedWithNoCpu() {
            Kernel k = boot(2);
            AddressSpace m = k.addressSpace();
            long parentTi = k.task(Pid.INIT).orElseThrow().stack();
            // thread_info.vfpstate (TI_VFPSTATE 248); vfp_hard_struct.cpu at 272 (VFP_CPU)
            long vfp = 248;
            long cpu = vfp + 272;
            m.writeInt(parentTi + vfp + 256, 0x40000000);
            m.writeInt(parentTi + cpu, 1);
            k.cpu(0).run(Pid.INIT);
            long childTi = k.task(k.cpu(0).fork()).orElseThrow().stack();
            assertEquals(8, m.readInt(childTi + cpu), "NR_CPUS: the state is in no CPU's VFP registers");
            byte[] mine = m.readBytes(childTi + vfp, 280);
            byte[] theirs = m.readBytes(parentTi + vfp, 280);
            java.util.Arrays.fill(mine, 272, 276, (byte) 0);
            java.util.Arrays.fill(theirs, 272, 276, (byte) 0);
            assertEquals(HexFormat.of().formatHex(theirs), HexFormat.of().formatHex(mine));
        }
    }

    @Nested
    class Cred extends CredContract {
        @Override
        protected Backend backend() {
            return Arm32TckTest.backend();
        }
    }

    @Nested
    class DoFork extends DoForkContract {
        @Override
        protected Backend backend() {
            return Arm32TckTest.backend();
        }
    }

    @Nested
    class ChildTaskStruct extends ChildTaskStructContract {
        @Override
        protected Backend backend() {
            return Arm32TckTest.backend();
        }
    }

    @Nested
    class DupTaskStruct extends DupTaskStructContract {
        @Override
        protected Backend backend() {
            return Arm32TckTest.backend();
        }
    }

    @Nested
    class Exit extends ExitContract {
        @Override
        protected Backend backend() {
            return Arm32TckTest.backend();
        }
    }

    @Nested
    class FaultInjection extends FaultInjectionContract {
        @Override
        protected Backend backend() {
            return Arm32TckTest.backend();
        }
    }

    @Nested
    class ForkExitSoak extends ForkExitSoakContract {
        @Override
        protected Backend backend() {
            return Arm32TckTest.backend();
        }
    }

    @Nested
    class ForkIdle extends ForkIdleContract {
        @Override
        protected Backend backend() {
            return Arm32TckTest.backend();
        }
    }

    @Nested
    class ForkProperties extends ForkPropertiesContract {
        @Override
        protected Backend backend() {
            return Arm32TckTest.backend();
        }
    }

    @Nested
    class Ftrace extends FtraceContract {
        @Override
        protected Backend backend() {
            return Arm32TckTest.backend();
        }
    }

    @Nested
    class Namespaces extends NamespacesContract {
        @Override
        protected Backend backend() {
            return Arm32TckTest.backend();
        }
    }

    @Nested
    class Exec extends ExecContract {
        @Override
        protected Backend backend() {
            return Arm32TckTest.backend();
        }
    }

    @Nested
    class Kill extends KillContract {
        @Override
        protected Backend backend() {
            return Arm32TckTest.backend();
        }
    }

    @Nested
    class MisuseFuzz extends MisuseFuzzContract {
        @Override
        protected Backend backend() {
            return Arm32TckTest.backend();
        }
    }

    @Nested
    class Pelt extends PeltContract {
        @Override
        protected Backend backend() {
            return Arm32TckTest.backend();
        }
    }

    @Nested
    class Pids extends PidsContract {
        @Override
        protected Backend backend() {
            return Arm32TckTest.backend();
        }
    }

    @Nested
    class Preempt extends PreemptContract {
        @Override
        protected Backend backend() {
            return Arm32TckTest.backend();
        }
    }

    @Nested
    class Rcu extends RcuContract {
        @Override
        protected Backend backend() {
            return Arm32TckTest.backend();
        }
    }

    @Nested
    class Runqueues extends RunqueuesContract {
        @Override
        protected Backend backend() {
            return Arm32TckTest.backend();
        }
    }

    @Nested
    class SchedClusters extends SchedClustersContract {
        @Override
        protected Backend backend() {
            return Arm32TckTest.backend();
        }
    }

    @Nested
    class SchedDomains extends SchedDomainsContract {
        @Override
        protected Backend backend() {
            return Arm32TckTest.backend();
        }
    }

    @Nested
    class LoadBalance extends LoadBalanceContract {
        @Override
        protected Backend backend() {
            return Arm32TckTest.backend();
        }
    }

    @Nested
    class Sched extends SchedContract {
        @Override
        protected Backend backend() {
            return Arm32TckTest.backend();
        }
    }

    @Nested
    class SchedFork extends SchedForkContract {
        @Override
        protected Backend backend() {
            return Arm32TckTest.backend();
        }
    }

    @Nested
    class SchedProperties extends SchedPropertiesContract {
        @Override
        protected Backend backend() {
            return Arm32TckTest.backend();
        }
    }

    @Nested
    class Sharing extends SharingContract {
        @Override
        protected Backend backend() {
            return Arm32TckTest.backend();
        }
    }

    @Nested
    class Sysctl extends SysctlContract {
        @Override
        protected Backend backend() {
            return Arm32TckTest.backend();
        }
    }

    @Nested
    class TestKit extends TestKitContract {
        @Override
        protected Backend backend() {
            return Arm32TckTest.backend();
        }
    }

    @Nested
    class Vmcore extends VmcoreContract {
        @Override
        protected Backend backend() {
            return Arm32TckTest.backend();
        }
    }

    @Nested
    class Wait extends WaitContract {
        @Override
        protected Backend backend() {
            return Arm32TckTest.backend();
        }
    }

    /**
     * The contracts of the namespaces vexpress's .config leaves out, on the same build with
     * CONFIG_USER_NS, PID_NS, UTS_NS, IPC_NS and NET_NS set ({@link Arm32WithNamespaces}, loaded from
     * files): a user's own build behaves as that build.
     */
    @Nested
    class BuiltWithNamespaces {
        @Nested
        class Namespaces extends NamespacesContract {
            @Override
            protected Backend backend() {
                return Arm32WithNamespaces.backend();
            }
        }

        @Nested
        class Pids extends PidsContract {
            @Override
            protected Backend backend() {
                return Arm32WithNamespaces.backend();
            }
        }

        @Nested
        class Exit extends ExitContract {
            @Override
            protected Backend backend() {
                return Arm32WithNamespaces.backend();
            }
        }

        @Nested
        class CopyProcessErrors extends CopyProcessErrorsContract {
            @Override
            protected Backend backend() {
                return Arm32WithNamespaces.backend();
            }
        }

        @Nested
        class DoFork extends DoForkContract {
            @Override
            protected Backend backend() {
                return Arm32WithNamespaces.backend();
            }
        }

        @Nested
        class FaultInjection extends FaultInjectionContract {
            @Override
            protected Backend backend() {
                return Arm32WithNamespaces.backend();
            }
        }

        @Nested
        class Kill extends KillContract {
            @Override
            protected Backend backend() {
                return Arm32WithNamespaces.backend();
            }
        }

        @Nested
        class TestKit extends TestKitContract {
            @Override
            protected Backend backend() {
                return Arm32WithNamespaces.backend();
            }
        }
    }

    @Nested
    class VmapStack extends VmapStackContract {
        @Override
        protected Backend backend() {
            return Arm32TckTest.backend();
        }
    }
}
