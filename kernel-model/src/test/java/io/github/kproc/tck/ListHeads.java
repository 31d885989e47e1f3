package io.github.kproc.tck;

import io.github.kproc.arch.Platform;
import io.github.kproc.layout.Member;
import io.github.kproc.mem.AddressSpace;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Every {@code struct list_head} of task_struct outside unions, found from the profile as a debugger
 * would, and the check that one is a ring: its next's prev and its prev's next are itself.
 */
final class ListHeads {
    /** The kernel leaves these as the parent's bytes in an idle task: fork_idle's task has no pid. */
    static final Set<String> IDLE_EXEMPT = Set.of("task_struct.tasks", "task_struct.ptraced",
        "task_struct.ptrace_entry");
    /** A thread is not on the task list: its tasks node stays the leader's bytes. */
    static final Set<String> THREAD_EXEMPT = Set.of("task_struct.tasks");

    private final Map<String, Long> offsets = new LinkedHashMap<>();
    private final AddressSpace m;

    ListHeads(Platform platform, AddressSpace memory) {
        this.m = memory;
        collect(platform, platform.profile().struct("task_struct").members(), 0, "task_struct");
    }

    private void collect(Platform platform, List<Member> members, long base, String path) {
        for (Member member : members) {
            String name = path + "." + (member.name() == null ? "<anonymous>" : member.name());
            if (member.isInline()) {
                if (!member.type().startsWith("union")) {
                    collect(platform, member.members(), base, name);
                }
                continue;
            }
            String type = member.embeddedTypeName();
            if (type == null) {
                continue;
            }
            long n = Math.max(1, member.elementCount());
            if (type.equals("list_head")) {
                for (int i = 0; i < n; i++) {
                    offsets.put(n > 1 ? name + "[" + i + "]" : name, base + member.offset() + i * member.elementSize());
                }
            } else if (n == 1) {
                platform.profile().find(type).filter(t -> !t.isUnion())
                        .ifPresent(t -> collect(platform, t.members(), base + member.offset(), name));
            }
        }
    }

    /** The paths of the task's list heads that are not rings, except {@code exempt} ones. */
    List<String> broken(long task, Set<String> exempt) {
        int ptr = m.pointerSize();
        return offsets.entrySet().stream().filter(e -> !exempt.contains(e.getKey())).filter(e -> {
            long head = task + e.getValue();
            long next = m.readPointer(head);
            long prev = m.readPointer(head + ptr);
            return !(m.contains(next, 2L * ptr) && m.contains(prev, 2L * ptr) && m.readPointer(next + ptr) == head
                    && m.readPointer(prev) == head);
        }).map(Map.Entry::getKey).toList();
    }
}
