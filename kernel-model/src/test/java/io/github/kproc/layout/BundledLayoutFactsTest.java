package io.github.kproc.layout;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The layouts of the two bundled v4.19 builds agree with the facts anyone can check against
 * {@code asm-offsets.c} of the same build (see {@code shared/layouts/linux-4.19/README.md}), and member
 * paths reach every kind of member pahole prints.
 */
class BundledLayoutFactsTest {

    @ParameterizedTest
    @EnumSource(BundledDump.class)
    void everyTypeIsAWholeNumberOfItsAlignment(BundledDump dump) {
        // sizeof is a multiple of _Alignof: a slab cache of these objects keeps every one aligned
        for (StructLayout type : dump.profile().types()) {
            assertEquals(0, type.size() % type.alignment(), type + " aligned to " + type.alignment());
        }
    }

    @ParameterizedTest
    @EnumSource(BundledDump.class)
    void everyEmbeddedStructOrUnionIsAsBigAsItsOwnLayoutSays(BundledDump dump) {
        // pahole prints no size for a union; where one is embedded, the member's size is the fact to meet
        Profile profile = dump.profile();
        int checked = 0;
        for (StructLayout type : profile.types()) {
            checked += checkEmbedded(profile, type.cName(), type.members());
        }
        assertTrue(checked > 500, "checked " + checked);
    }

    private static int checkEmbedded(Profile profile, String where, List<Member> members) {
        int checked = 0;
        for (Member m : members) {
            checked += checkEmbedded(profile, where + " > " + m.name(), m.members());
            String embedded = m.embeddedTypeName();
            if (embedded != null && m.elementCount() > 0 && profile.find(embedded).isPresent()) {
                assertEquals(m.elementSize(), profile.sizeOf(embedded), where + " > " + m.name() + ": " + m.type());
                checked++;
            }
        }
        return checked;
    }

    @Nested
    class Arm32Vexpress {
        private final Profile arm32 = BundledDump.ARM32.profile();

        @Test
        void threadInfoHoldsCpuContextAt24AndVfpStateAt248() {
            assertAll(
                    () -> assertEquals(528, arm32.sizeOf("thread_info")),
                    () -> assertEquals(24, arm32.offsetOf("thread_info", "cpu_context")),
                    () -> assertEquals(248, arm32.offsetOf("thread_info", "vfpstate")),
                    () -> assertEquals(8, arm32.struct("thread_info").alignment(), "__aligned__(8)"));
        }

        @Test
        void taskStructStartsWithStateStackUsageAndIsCachelineAligned() {
            StructLayout task = arm32.struct("struct task_struct");

            assertAll(
                    () -> assertEquals(1472, task.size()),
                    () -> assertEquals(0, arm32.offsetOf("task_struct", "state")),
                    () -> assertEquals(4, arm32.offsetOf("task_struct", "stack")),
                    () -> assertEquals(8, arm32.offsetOf("task_struct", "usage")),
                    () -> assertEquals(64, task.alignment(), "se is __aligned__(64)"),
                    () -> assertEquals(64, task.alignedAttribute()));
        }

        @Test
        void unionSizeIsItsLargestMemberBecausePaholePrintsNone() {
            assertAll(
                    () -> assertEquals(280, arm32.sizeOf("union vfp_state")),
                    () -> assertEquals(140, arm32.sizeOf("union fp_state")),
                    () -> assertTrue(arm32.struct("fp_state").isUnion()),
                    () -> assertEquals(0, arm32.offsetOf("fp_state", "soft")),
                    () -> assertEquals(0, arm32.offsetOf("fp_state", "hard")));
        }

        @Test
        void schedBitfieldsShareOneFourByteUnitAt660() {
            Field resetOnFork = arm32.field("task_struct", "sched_reset_on_fork");
            Field remoteWakeup = arm32.field("task_struct", "sched_remote_wakeup");

            assertEquals(new Field("sched_reset_on_fork", "unsigned int", 660, 4, 0, 1), resetOnFork);
            assertEquals(new Field("sched_remote_wakeup", "unsigned int", 660, 4, 3, 1), remoteWakeup);
        }

        @Test
        void aBitfieldAfterAnUnnamedZeroWidthFieldStartsTheNextUnit() {
            // unsigned int :0; between sched_remote_wakeup and in_execve (pahole prints it as a comment)
            assertEquals(new Field("in_execve", "unsigned int", 664, 4, 0, 1),
                    arm32.field("task_struct", "in_execve"));
        }

        @Test
        void pathsReachArrayElementsAndMembersOfEmbeddedStructs() {
            assertAll(
                    () -> assertEquals(772 + 8 + 4, arm32.offsetOf("task_struct", "pid_links[1].pprev")),
                    () -> assertEquals(128 + 56, arm32.offsetOf("task_struct", "se.vruntime")),
                    () -> assertEquals(8, arm32.field("task_struct", "se.vruntime").size()));
        }

        @Test
        void zeroLengthAndFlexibleArraysTakeNoBytes() {
            Member zeroLength = arm32.struct("zone_padding").member("x");
            Member flexible = arm32.struct("group_info").member("gid");

            assertAll(
                    () -> assertArrayEquals(new int[] {0}, zeroLength.dims(), "char x[0]"),
                    () -> assertEquals(0, zeroLength.size()),
                    () -> assertArrayEquals(new int[] {-1}, flexible.dims(), "kgid_t gid[]"),
                    () -> assertEquals(8, flexible.offset()),
                    () -> assertEquals(0, flexible.size()),
                    () -> assertEquals(8, arm32.sizeOf("group_info")),
                    () -> assertEquals(98, arm32.offsetOf("sk_buff", "__cloned_offset")));
        }

        @Test
        void aStructOfTypedefdStructsIsAlignedNoMoreThanItsSizeAndOffsetsAllow() {
            // sigset_t is a typedef of struct { unsigned long sig[2]; }: 8 bytes, 4-aligned on ARM32;
            // sighand_struct (1300 bytes, from copy_sighand's slab cache) cannot be 8-aligned
            assertAll(
                    () -> assertEquals(4, arm32.struct("sigaction").alignment(), "sa_mask at 12"),
                    () -> assertEquals(4, arm32.struct("k_sigaction").alignment()),
                    () -> assertEquals(4, arm32.struct("sighand_struct").alignment()),
                    () -> assertEquals(4, arm32.struct("local_ports").alignment(), "20 bytes"),
                    () -> assertEquals(4, arm32.struct("cred").alignment(), "__aligned__(4)"));
        }

        @Test
        void functionPointersArePointerSized() {
            Member func = arm32.struct("callback_head").member("func");

            assertAll(
                    () -> assertTrue(func.isFunctionPointer()),
                    () -> assertFalse(func.isPointer()),
                    () -> assertEquals("void (*%s)(struct callback_head *)", func.type()),
                    () -> assertEquals(4, func.offset()),
                    () -> assertEquals(4, func.size()),
                    () -> assertNull(func.embeddedTypeName()));
        }

        // The numbers below are read from sched.pahole of the build (kernel/sched/core.o).

        @Test
        void runqueueHoldsItsCfsAndRtRunqueuesAsSchedPaholePrintsThem() {
            assertAll(
                    () -> assertEquals(1664, arm32.sizeOf("rq")),
                    () -> assertEquals(new Field("nr_running", "unsigned int", 4, 4, 0, 0),
                            arm32.field("rq", "nr_running")),
                    () -> assertEquals(new Field("curr", "struct task_struct *", 1356, 4, 0, 0),
                            arm32.field("rq", "curr")),
                    () -> assertEquals(1360, arm32.offsetOf("rq", "idle")),
                    () -> assertEquals(new Field("cfs", "struct cfs_rq", 64, 320, 0, 0), arm32.field("rq", "cfs")),
                    () -> assertEquals(new Field("rt", "struct rt_rq", 384, 888, 0, 0), arm32.field("rq", "rt")),
                    () -> assertEquals(1384, arm32.offsetOf("rq", "clock")),
                    () -> assertEquals(1456, arm32.offsetOf("rq", "cpu")),
                    () -> assertEquals(40, arm32.offsetOf("rq", "nr_switches")),
                    () -> assertEquals(64, arm32.struct("rq").alignment(), "cfs is __aligned__(64)"));
        }

        @Test
        void cfsRunqueueKeepsTheCachedRbTreeOfItsEntities() {
            assertAll(
                    () -> assertEquals(320, arm32.sizeOf("cfs_rq")),
                    () -> assertEquals(new Field("load", "struct load_weight", 0, 8, 0, 0),
                            arm32.field("cfs_rq", "load")),
                    () -> assertEquals(32, arm32.offsetOf("cfs_rq", "min_vruntime")),
                    () -> assertEquals(new Field("tasks_timeline", "struct rb_root_cached", 48, 8, 0, 0),
                            arm32.field("cfs_rq", "tasks_timeline")),
                    () -> assertEquals(new Field("curr", "struct sched_entity *", 56, 4, 0, 0),
                            arm32.field("cfs_rq", "curr")),
                    () -> assertEquals(8, arm32.sizeOf("rb_root_cached")),
                    () -> assertEquals(4, arm32.offsetOf("rb_root_cached", "rb_leftmost")),
                    () -> assertEquals(192, arm32.sizeOf("sched_entity")),
                    () -> assertEquals(12, arm32.offsetOf("sched_entity", "run_node")),
                    () -> assertEquals(32, arm32.offsetOf("sched_entity", "on_rq")),
                    () -> assertEquals(56, arm32.offsetOf("sched_entity", "vruntime")),
                    () -> assertEquals(64 + 48 + 4, arm32.offsetOf("rq", "cfs.tasks_timeline.rb_leftmost")));
        }

        @Test
        void rtRunqueueHoldsOneListPerRtPriorityAndABitmapOfTheNonEmptyOnes() {
            // MAX_RT_PRIO 100 lists and DECLARE_BITMAP(bitmap, MAX_RT_PRIO + 1): 4 longs of 32 bits
            Member bitmap = arm32.struct("rt_prio_array").member("bitmap");
            Member queue = arm32.struct("rt_prio_array").member("queue");

            assertAll(
                    () -> assertEquals(888, arm32.sizeOf("rt_rq")),
                    () -> assertEquals(new Field("active", "struct rt_prio_array", 0, 816, 0, 0),
                            arm32.field("rt_rq", "active")),
                    () -> assertEquals(816, arm32.offsetOf("rt_rq", "rt_nr_running")),
                    () -> assertEquals(816, arm32.sizeOf("rt_prio_array")),
                    () -> assertArrayEquals(new int[] {4}, bitmap.dims()),
                    () -> assertEquals(0, bitmap.offset()),
                    () -> assertEquals(16, bitmap.size()),
                    () -> assertArrayEquals(new int[] {100}, queue.dims()),
                    () -> assertEquals(16, queue.offset()),
                    () -> assertEquals(800, queue.size()),
                    () -> assertEquals(384 + 16 + 99 * 8, arm32.offsetOf("rq", "rt.active.queue[99]")));
        }
    }

    @Nested
    class Arm64Defconfig {
        private final Profile arm64 = BundledDump.ARM64.profile();

        @Test
        void threadInfoIsTheFirstMemberOfTaskStruct() {
            // CONFIG_THREAD_INFO_IN_TASK: current_thread_info() is (struct thread_info *)current
            assertAll(
                    () -> assertEquals(24, arm64.sizeOf("thread_info")),
                    () -> assertEquals(0, arm64.offsetOf("thread_info", "flags")),
                    () -> assertEquals(8, arm64.offsetOf("thread_info", "addr_limit")),
                    () -> assertEquals(16, arm64.offsetOf("thread_info", "preempt_count")),
                    () -> assertEquals(0, arm64.offsetOf("task_struct", "thread_info")),
                    () -> assertEquals(3392, arm64.sizeOf("task_struct")),
                    () -> assertEquals(64, arm64.struct("task_struct").alignment()));
        }

        @Test
        void cpuContextHoldsTheCalleeSavedRegistersInOrder() {
            // cpu_switch_to saves x19..x28, fp, sp and lr (as pc) into thread.cpu_context
            StructLayout cpuContext = arm64.struct("cpu_context");
            List<String> registers = List.of("x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26", "x27", "x28",
                    "fp", "sp", "pc");

            assertEquals(104, cpuContext.size());
            assertEquals(registers, cpuContext.members().stream().map(Member::name).toList());
            for (int i = 0; i < registers.size(); i++) {
                assertEquals(8L * i, arm64.offsetOf("cpu_context", registers.get(i)), registers.get(i));
            }
            assertEquals(2400, arm64.offsetOf("task_struct", "thread.cpu_context"));
            assertEquals(2400 + 96, arm64.offsetOf("task_struct", "thread.cpu_context.pc"));
        }

        @Test
        void pathsReachArrayElementsAndMembersOfEmbeddedStructs() {
            assertAll(
                    () -> assertEquals(1208 + 16 + 8, arm64.offsetOf("task_struct", "pid_links[1].pprev")),
                    () -> assertEquals(192 + 88, arm64.offsetOf("task_struct", "se.vruntime")),
                    () -> assertEquals(1028, arm64.offsetOf("task_struct", "sched_reset_on_fork")));
        }

        @Test
        void membersOfAnAnonymousUnionAreReachedByTheirOwnName() {
            // struct restart_block { fn; union { struct {...} futex; struct {...} nanosleep; ... }; }
            assertAll(
                    () -> assertEquals(new Field("futex.uaddr", "u32 *", 8, 8, 0, 0),
                            arm64.field("restart_block", "futex.uaddr")),
                    () -> assertEquals(40, arm64.offsetOf("restart_block", "futex.uaddr2")),
                    () -> assertEquals(8, arm64.offsetOf("restart_block", "nanosleep.clockid")),
                    () -> assertEquals(16, arm64.offsetOf("restart_block", "nanosleep.compat_rmtp")),
                    () -> assertEquals(24, arm64.offsetOf("restart_block", "poll.tv_sec")),
                    () -> assertEquals(1048 + 8, arm64.offsetOf("task_struct", "restart_block.futex.uaddr")));
        }

        @Test
        void elementsOfMultiDimensionalArraysAreRowMajor() {
            // long unsigned int tags[3][1] at 552; lru_zone_size[3][5] at 368
            Member tags = arm64.struct("radix_tree_node").member("tags");

            assertAll(
                    () -> assertArrayEquals(new int[] {3, 1}, tags.dims()),
                    () -> assertEquals(3, tags.elementCount()),
                    () -> assertEquals(8, tags.elementSize()),
                    () -> assertEquals(552 + 2 * 8, arm64.offsetOf("radix_tree_node", "tags[2][0]")),
                    () -> assertEquals(8, arm64.field("radix_tree_node", "tags[2][0]").size()),
                    () -> assertEquals(368 + (1 * 5 + 2) * 8,
                            arm64.offsetOf("mem_cgroup_per_node", "lru_zone_size[1][2]")),
                    () -> assertEquals(368 + 120 - 8,
                            arm64.offsetOf("mem_cgroup_per_node", "lru_zone_size[2][4]")));
        }

        @Test
        void anInlineEnumKeepsItsEnumeratorsAndItsBitfieldWidth() {
            Member origProto = arm64.struct("nf_bridge_info").member("orig_proto");

            assertAll(
                    () -> assertEquals("enum", origProto.type()),
                    () -> assertEquals(List.of("BRNF_PROTO_UNCHANGED = 0", "BRNF_PROTO_8021Q = 1",
                            "BRNF_PROTO_PPPOE = 2"), origProto.enumerators()),
                    () -> assertEquals(new Field("orig_proto", "enum", 4, 4, 0, 8),
                            arm64.field("nf_bridge_info", "orig_proto")));
        }

        @Test
        void sighandStructIsPointerAligned() {
            assertEquals(8, arm64.struct("sighand_struct").alignment());
            assertEquals(4, arm64.struct("local_ports").alignment(), "20 bytes");
        }

        @Test
        void functionPointersArePointerSized() {
            Member func = arm64.struct("callback_head").member("func");

            assertTrue(func.isFunctionPointer());
            assertEquals(8, func.offset());
            assertEquals(8, func.size());
        }

        // The numbers below are read from sched.pahole of the build (kernel/sched/core.o).

        @Test
        void runqueueHoldsItsCfsAndRtRunqueuesAsSchedPaholePrintsThem() {
            assertAll(
                    () -> assertEquals(2944, arm64.sizeOf("rq")),
                    () -> assertEquals(new Field("nr_running", "unsigned int", 4, 4, 0, 0),
                            arm64.field("rq", "nr_running")),
                    () -> assertEquals(new Field("curr", "struct task_struct *", 2352, 8, 0, 0),
                            arm64.field("rq", "curr")),
                    () -> assertEquals(2360, arm64.offsetOf("rq", "idle")),
                    () -> assertEquals(new Field("cfs", "struct cfs_rq", 128, 384, 0, 0), arm64.field("rq", "cfs")),
                    () -> assertEquals(new Field("rt", "struct rt_rq", 512, 1704, 0, 0), arm64.field("rq", "rt")),
                    () -> assertEquals(2400, arm64.offsetOf("rq", "clock")),
                    () -> assertEquals(2520, arm64.offsetOf("rq", "cpu")),
                    () -> assertEquals(120, arm64.offsetOf("rq", "nr_switches")),
                    () -> assertEquals(64, arm64.struct("rq").alignment(), "cfs is __aligned__(64)"));
        }

        @Test
        void cfsRunqueueKeepsTheCachedRbTreeOfItsEntities() {
            assertAll(
                    () -> assertEquals(384, arm64.sizeOf("cfs_rq")),
                    () -> assertEquals(new Field("load", "struct load_weight", 0, 16, 0, 0),
                            arm64.field("cfs_rq", "load")),
                    () -> assertEquals(40, arm64.offsetOf("cfs_rq", "min_vruntime")),
                    () -> assertEquals(new Field("tasks_timeline", "struct rb_root_cached", 48, 16, 0, 0),
                            arm64.field("cfs_rq", "tasks_timeline")),
                    () -> assertEquals(new Field("curr", "struct sched_entity *", 64, 8, 0, 0),
                            arm64.field("cfs_rq", "curr")),
                    () -> assertEquals(16, arm64.sizeOf("rb_root_cached")),
                    () -> assertEquals(8, arm64.offsetOf("rb_root_cached", "rb_leftmost")),
                    () -> assertEquals(256, arm64.sizeOf("sched_entity")),
                    () -> assertEquals(24, arm64.offsetOf("sched_entity", "run_node")),
                    () -> assertEquals(64, arm64.offsetOf("sched_entity", "on_rq")),
                    () -> assertEquals(88, arm64.offsetOf("sched_entity", "vruntime")),
                    () -> assertEquals(128 + 48 + 8, arm64.offsetOf("rq", "cfs.tasks_timeline.rb_leftmost")));
        }

        @Test
        void rtRunqueueHoldsOneListPerRtPriorityAndABitmapOfTheNonEmptyOnes() {
            // MAX_RT_PRIO 100 lists and DECLARE_BITMAP(bitmap, MAX_RT_PRIO + 1): 2 longs of 64 bits
            Member bitmap = arm64.struct("rt_prio_array").member("bitmap");
            Member queue = arm64.struct("rt_prio_array").member("queue");

            assertAll(
                    () -> assertEquals(1704, arm64.sizeOf("rt_rq")),
                    () -> assertEquals(new Field("active", "struct rt_prio_array", 0, 1616, 0, 0),
                            arm64.field("rt_rq", "active")),
                    () -> assertEquals(1616, arm64.offsetOf("rt_rq", "rt_nr_running")),
                    () -> assertEquals(1616, arm64.sizeOf("rt_prio_array")),
                    () -> assertArrayEquals(new int[] {2}, bitmap.dims()),
                    () -> assertEquals(0, bitmap.offset()),
                    () -> assertEquals(16, bitmap.size()),
                    () -> assertArrayEquals(new int[] {100}, queue.dims()),
                    () -> assertEquals(16, queue.offset()),
                    () -> assertEquals(1600, queue.size()),
                    () -> assertEquals(512 + 16 + 99 * 16, arm64.offsetOf("rq", "rt.active.queue[99]")));
        }
    }
}
