package io.github.kproc.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.kproc.mem.AddressSpace;
import io.github.kproc.view.KernelReader;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads mm/vmalloc.c's bookkeeping from any reader, the model or a real kernel's dump, asserting what
 * {@code __insert_vmap_area} and {@code setup_vmalloc_vm} guarantee: {@code vmap_area_list} is
 * address-sorted, page-aligned and without overlaps, it holds as many areas as an in-order walk of
 * the {@code vmap_area_root} red-black tree, and an area with {@code VM_VM_AREA} points at a
 * {@code vm_struct} of its address and size.
 */
public final class VmapAreas {
    /** {@code VM_VM_AREA} of mm/vmalloc.c: the area has its vm_struct. */
    public static final long VM_VM_AREA = 0x4;

    private VmapAreas() {
    }

    /**
     * The {@code struct vmap_area}s on {@code vmap_area_list}, in list order, each checked as above.
     *
     * @param allWithVm whether every area must have {@code VM_VM_AREA} (the model's, which are all
     *     stacks; a real kernel also has areas of vmap and ioremap users being torn down)
     */
    public static List<Long> walk(KernelReader r, boolean allWithVm) {
        AddressSpace m = r.addressSpace();
        long head = r.symbol("vmap_area_list");
        List<Long> out = new ArrayList<>();
        long previousEnd = 0;
        for (long n = m.readPointer(head); n != head; n = m.readPointer(n)) {
            long va = n - off(r, "vmap_area", "list");
            long start = m.readPointer(va + off(r, "vmap_area", "va_start"));
            long end = m.readPointer(va + off(r, "vmap_area", "va_end"));
            assertTrue(Long.compareUnsigned(previousEnd, start) <= 0 && Long.compareUnsigned(start, end) < 0,
                    "vmap_area_list is address-sorted without overlaps at 0x" + Long.toHexString(start));
            assertEquals(0, start % r.platform().pageSize(), "va_start is page-aligned");
            boolean withVm = (m.readPointer(va + off(r, "vmap_area", "flags")) & VM_VM_AREA) != 0;
            assertTrue(withVm || !allWithVm, "VM_VM_AREA (setup_vmalloc_vm)");
            if (withVm) {
                long vm = m.readPointer(va + off(r, "vmap_area", "vm"));
                assertEquals(start, m.readPointer(vm + off(r, "vm_struct", "addr")), "vm->addr = va->va_start");
                assertEquals(end - start, m.readPointer(vm + off(r, "vm_struct", "size")), "vm->size = va_end - va_start");
            }
            previousEnd = end;
            out.add(va);
            assertTrue(out.size() < 1_000_000, "vmap_area_list closes");
        }
        assertEquals(out.size(), inOrder(r, m.readPointer(r.symbol("vmap_area_root"))),
                "the vmap_area_root tree holds the listed areas");
        return out;
    }

    /** The areas among {@code areas} that have their vm_struct. */
    public static long withVm(KernelReader r, List<Long> areas) {
        return areas.stream()
                .filter(va -> (r.addressSpace().readPointer(va + off(r, "vmap_area", "flags")) & VM_VM_AREA) != 0)
                .count();
    }

    private static long off(KernelReader r, String type, String member) {
        return r.platform().profile().offsetOf(type, member);
    }

    private static int inOrder(KernelReader r, long node) {
        if (node == 0) {
            return 0;
        }
        AddressSpace m = r.addressSpace();
        return inOrder(r, m.readPointer(node + off(r, "rb_node", "rb_left"))) + 1
                + inOrder(r, m.readPointer(node + off(r, "rb_node", "rb_right")));
    }
}
