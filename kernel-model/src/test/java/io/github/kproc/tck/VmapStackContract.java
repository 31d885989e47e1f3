package io.github.kproc.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.kproc.kernel.Cpu;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import io.github.kproc.layout.Profile;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.testkit.KernelInvariants;
import io.github.kproc.testkit.KernelSnapshot;
import io.github.kproc.testkit.Workload;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * VMAP_STACK stacks as {@code alloc_thread_stack_node} makes them ({@code kernel/fork.c} with
 * {@code mm/vmalloc.c}'s {@code __vmalloc_node_range}): each new task's {@code stack_vm_area} is a
 * {@code vm_struct} in memory whose {@code vmap_area} sits in the {@code vmap_area_root} tree and on
 * the address-sorted {@code vmap_area_list}, as QemuDumpTest reads them from a real kernel; release
 * ({@code release_task_stack}, {@code vfree}) takes them out again. Runs where the build has
 * CONFIG_VMAP_STACK (arm64's defconfig); ARM32's vexpress build has none and keeps no vmalloc symbols.
 */
public abstract class VmapStackContract extends KernelContract {
    private static final long VM_ALLOC = 0x2;

    private long off(String type, String member) {
        return platform().profile().offsetOf(type, member);
    }

    /** The vmap_areas on vmap_area_list, in list order, with QemuDumpTest's checks ({@link VmapAreas}); each the model's has its vm_struct. */
    private List<Long> areas(Kernel k) {
        return VmapAreas.walk(k, true);
    }

    @Test
    @DisplayName("alloc_thread_stack_node: a fork's stack_vm_area is the VM_ALLOC vm_struct of its vmalloc'ed stack, in vmap_area_root and vmap_area_list")
    void allocThreadStackNodeGivesTheVmStructOfTheStack() {
        requireBuilt("CONFIG_VMAP_STACK");
        Kernel k = boot(2);
        Profile p = platform().profile();
        AddressSpace m = k.addressSpace();
        int before = areas(k).size();
        Cpu cpu0 = k.cpu(0);
        cpu0.run(Pid.INIT);
        Pid child = cpu0.as(Pid.INIT).fork();
        List<Long> after = areas(k);
        assertEquals(before + 1, after.size(), "__vmalloc_node_range: one vmap_area for the new stack");
        long task = k.task(child).orElseThrow().address();
        long stack = k.task(child).orElseThrow().stack();
        long vm = m.readPointer(task + p.offsetOf("task_struct", "stack_vm_area"));
        assertNotEquals(0, vm, "dup_task_struct keeps tsk->stack_vm_area");
        int pageSize = platform().pageSize();
        assertEquals(stack, m.readPointer(vm + off("vm_struct", "addr")));
        assertEquals(platform().threadSize() + pageSize, m.readPointer(vm + off("vm_struct", "size")),
                "THREAD_SIZE and the guard page (no VM_NO_GUARD)");
        assertEquals(VM_ALLOC, m.readPointer(vm + off("vm_struct", "flags")),
                "VM_ALLOC, VM_UNINITIALIZED cleared by clear_vm_uninitialized_flag");
        int nrPages = m.readInt(vm + off("vm_struct", "nr_pages"));
        assertEquals(platform().threadSize() / pageSize, nrPages, "__vmalloc_area_node: nr_pages");
        long pages = m.readPointer(vm + off("vm_struct", "pages"));
        assertEquals("kmalloc-128", k.memory().classify(pages).cache(), "the pages array is kmalloc'd");
        assertEquals("kmalloc-128", k.memory().classify(vm).cache(), "__get_vm_area_node: kzalloc_node");
        long backing = java.util.Objects.requireNonNull(k.memory().vmalloc()).backingOf(stack);
        for (int i = 0; i < nrPages; i++) {
            long page = m.readPointer(pages + (long) i * platform().pointerSize());
            assertEquals(platform().virtToPage(backing + (long) i * pageSize), page,
                    "pages[" + i + "]: virt_to_page of the area's page " + i + " (vmemmap)");
        }
        // arm64's vmemmap: VMEMMAP_START + (linear index) * sizeof(struct page), below PAGE_OFFSET
        assertEquals(64, platform().virtToPage(backing + pageSize) - platform().virtToPage(backing));
        long va = after.stream().filter(a -> m.readPointer(a + off("vmap_area", "va_start")) == stack).findFirst()
                .orElseThrow(() -> new AssertionError("no vmap_area starts at the stack"));
        assertEquals(vm, m.readPointer(va + off("vmap_area", "vm")), "setup_vmalloc_vm: va->vm");
        assertEquals(stack + platform().threadSize() + pageSize, m.readPointer(va + off("vmap_area", "va_end")));
        assertEquals("kmalloc-128", k.memory().classify(va).cache(), "alloc_vmap_area: kmalloc_node");
        assertEquals(List.of(), KernelInvariants.of(k).check());
    }

    @Test
    @DisplayName("release_task_stack/vfree: a reaped task's vmap_area, vm_struct, pages array and pages go back after the grace period")
    void vfreeReleasesTheAreaAndItsObjects() {
        requireBuilt("CONFIG_VMAP_STACK");
        Kernel k = boot(2);
        Cpu cpu0 = k.cpu(0);
        cpu0.run(Pid.INIT);
        int before = areas(k).size();
        KernelSnapshot snapshot = KernelSnapshot.take(k);
        List<Pid> children = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            children.add(cpu0.as(Pid.INIT).fork());
        }
        assertEquals(before + 5, areas(k).size());
        Cpu cpu1 = k.cpu(1);
        for (Pid c : children) {
            cpu1.run(c);
            cpu1.as(c).exit(0);
            assertTrue(cpu0.as(Pid.INIT).wait4(c));
        }
        Workload.passGracePeriods(k, 16);
        assertEquals(before, areas(k).size(), "vfree: each area left the tree and the list");
        assertEquals(java.util.Map.of(), snapshot.leaksSince(k),
                "the pages, the pages arrays, the vm_structs and the vmap_areas went back (a lazy-TLB mm aside)");
        assertEquals(List.of(), KernelInvariants.of(k).check());
    }

    @Test
    @DisplayName("KernelInvariants: a task whose stack_vm_area does not describe its stack breaks Rule.VMALLOC")
    void invariantsCatchAWrongStackVmArea() {
        requireBuilt("CONFIG_VMAP_STACK");
        Kernel k = boot(2);
        Cpu cpu0 = k.cpu(0);
        cpu0.run(Pid.INIT);
        Pid a = cpu0.as(Pid.INIT).fork();
        Pid b = cpu0.as(Pid.INIT).fork();
        AddressSpace m = k.addressSpace();
        long field = platform().profile().offsetOf("task_struct", "stack_vm_area");
        long ta = k.task(a).orElseThrow().address();
        long tb = k.task(b).orElseThrow().address();
        long vmA = m.readPointer(ta + field);
        m.writePointer(ta + field, m.readPointer(tb + field));
        assertTrue(KernelInvariants.of(k).check().stream().anyMatch(v -> v.rule().name().equals("VMALLOC")),
                "a swapped stack_vm_area is seen");
        m.writePointer(ta + field, vmA);
        assertEquals(List.of(), KernelInvariants.of(k).check());
    }

    @Test
    @DisplayName("without VMAP_STACK the model keeps no vmalloc symbols (ARM32 unchanged)")
    void noVmapStackNoVmallocSymbols() {
        org.junit.jupiter.api.Assumptions.assumeFalse(built("CONFIG_VMAP_STACK"));
        Kernel k = boot(1);
        assertTrue(!k.symbols().containsKey("vmap_area_root") && !k.symbols().containsKey("vmap_area_list"));
        assertThrows(IllegalArgumentException.class, () -> k.symbol("vmap_area_root"));
    }
}
