package io.github.kproc.kernel;

import io.github.kproc.layout.Profile;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.mem.SlabCache;
import io.github.kproc.mem.VmallocArea;

/**
 * {@code mm/vmalloc.c} as far as VMAP_STACK stacks use it: {@code __vmalloc_node_range} and
 * {@code vfree} with their kernel objects in memory. Each stack has a {@code struct vmap_area}
 * ({@code alloc_vmap_area}: kmalloc'd, in the {@code vmap_area_root} rbtree keyed by address and the
 * address-sorted {@code vmap_area_list}) and a {@code struct vm_struct} ({@code __get_vm_area_node}:
 * kzalloc'd, filled by {@code setup_vmalloc_vm}), whose {@code pages} array ({@code __vmalloc_area_node}:
 * kzalloc'd, {@code nr_pages} {@code struct page *}s) names the pages that back the area.
 *
 * <p>Where the VA goes is {@link VmallocArea}'s decision (the lowest free THREAD_ALIGN slot, O(1)),
 * not 4.19's first-fit walk from {@code free_vmap_cache}; the tree insert and erase are the kernel's
 * O(log n). The backing is one physically contiguous block of {@code nr_pages} pages (the model's
 * address space maps a slot to one block), where 4.19 takes {@code nr_pages} order-0 pages; the
 * {@code pages} array lists the block's pages in order. {@code vfree} releases the vmap_area at once,
 * where 4.19 marks it VM_LAZY_FREE and purges in batches ({@code free_vmap_area_noflush},
 * {@code __purge_vmap_area_lazy}) once {@code lazy_max_pages()} pages are pending.
 */
final class Vmalloc {
    /** {@code VM_ALLOC}, {@code VM_UNINITIALIZED} (include/linux/vmalloc.h). */
    static final long VM_ALLOC = 0x2;
    static final long VM_UNINITIALIZED = 0x20;
    /** {@code VM_VM_AREA} (a vmap_area's flag once {@code setup_vmalloc_vm} ran). */
    static final long VM_VM_AREA = 0x4;

    private final Machine mc;
    private final AddressSpace m;
    private final VmallocArea area;
    private final Rbtree rb;
    private final Lists lists;
    /** The kmalloc caches of a vmap_area, a vm_struct and a stack's pages array. */
    private final SlabCache vaCache;
    private final SlabCache vmCache;
    private final SlabCache pagesCache;
    private final int pageSize;
    private final int ptr;
    /** {@code &vmap_area_root} (a {@code struct rb_root}) and {@code &vmap_area_list}. */
    final long vmapAreaRoot;
    final long vmapAreaList;
    /** The caller recorded in each vm_struct: {@code copy_process}, where alloc_thread_stack_node is inlined. */
    private final long caller;

    final long vaStart;
    final long vaEnd;
    final long vaFlags;
    final long vaRbNode;
    final long vaList;
    final long vaVm;
    final long vaSize;
    final long vmAddr;
    final long vmSize;
    final long vmFlags;
    final long vmPages;
    final long vmNrPages;
    final long vmCaller;
    final long vmStructSize;

    Vmalloc(Machine mc, VmallocArea area) {
        this.mc = mc;
        this.m = mc.m;
        this.area = area;
        this.lists = mc.lists;
        Profile p = mc.platform.profile();
        this.rb = new Rbtree(m, p);
        this.pageSize = mc.platform.pageSize();
        this.ptr = mc.platform.pointerSize();
        vaStart = p.offsetOf("vmap_area", "va_start");
        vaEnd = p.offsetOf("vmap_area", "va_end");
        vaFlags = p.offsetOf("vmap_area", "flags");
        vaRbNode = p.offsetOf("vmap_area", "rb_node");
        vaList = p.offsetOf("vmap_area", "list");
        vaVm = p.offsetOf("vmap_area", "vm");
        vaSize = p.sizeOf("vmap_area");
        vmAddr = p.offsetOf("vm_struct", "addr");
        vmSize = p.offsetOf("vm_struct", "size");
        vmFlags = p.offsetOf("vm_struct", "flags");
        vmPages = p.offsetOf("vm_struct", "pages");
        vmNrPages = p.offsetOf("vm_struct", "nr_pages");
        vmCaller = p.offsetOf("vm_struct", "caller");
        vmStructSize = p.sizeOf("vm_struct");
        // kmalloc-N by size: all three are kmalloc-128 on arm64 (KMALLOC_MIN_SIZE 128)
        this.vaCache = mc.kmallocCache(vaSize);
        this.vmCache = mc.kmallocCache(vmStructSize);
        this.pagesCache = mc.kmallocCache((mc.platform.threadSize() / pageSize) * ptr);
        // static struct rb_root vmap_area_root = RB_ROOT; LIST_HEAD(vmap_area_list);
        this.vmapAreaRoot = mc.staticAlloc(p.sizeOf("rb_root"), ptr);
        this.vmapAreaList = mc.staticAlloc(2L * ptr, ptr);
        rb.initRoot(vmapAreaRoot);
        lists.init(vmapAreaList);
        mc.vmapAreaRoot = vmapAreaRoot;
        mc.vmapAreaList = vmapAreaList;
        this.caller = mc.symbol("copy_process");
    }

    /**
     * {@code __vmalloc_node_range(size, THREAD_ALIGN, VMALLOC_START, VMALLOC_END, THREADINFO_GFP,
     * PAGE_KERNEL, 0, node, caller)}: the mapped area's {@code vm_struct}, 0 when memory runs out (the
     * model as before). The area's bytes are not cleared here (the caller's THREADINFO_GFP zeroing is).
     */
    long vmallocNodeRange(long size) {
        // __get_vm_area_node: the vm_struct first, then alloc_vmap_area's vmap_area
        long vm = vmCache.zalloc();
        if (vm == 0) {
            return 0;
        }
        long va = vaCache.alloc();
        if (va == 0) {
            vmCache.free(vm);
            return 0;
        }
        // __vmalloc_area_node: the pages array (nested_gfp has __GFP_ZERO), then the pages
        int nrPages = (int) (size / pageSize);
        long pages = pagesCache.zalloc();
        if (pages == 0) {
            vaCache.free(va);
            vmCache.free(vm);
            return 0;
        }
        long addr = area.vmalloc(size);
        if (addr == 0) {
            pagesCache.free(pages);
            vaCache.free(va);
            vmCache.free(vm);
            return 0;
        }
        // alloc_vmap_area: size + the guard page (no VM_NO_GUARD), flags 0, into the tree and list
        m.writePointer(va + vaStart, addr);
        m.writePointer(va + vaEnd, addr + size + pageSize);
        m.writePointer(va + vaFlags, 0);
        insertVmapArea(va);
        // setup_vmalloc_vm(area, va, VM_ALLOC | VM_UNINITIALIZED | vm_flags, caller)
        m.writePointer(vm + vmFlags, VM_ALLOC | VM_UNINITIALIZED);
        m.writePointer(vm + vmAddr, addr);
        m.writePointer(vm + vmSize, size + pageSize);
        m.writePointer(vm + vmCaller, caller);
        m.writePointer(va + vaVm, vm);
        m.writePointer(va + vaFlags, m.readPointer(va + vaFlags) | VM_VM_AREA);
        // __vmalloc_area_node: nr_pages, pages[i] (map_vm_area maps them)
        m.writeInt(vm + vmNrPages, nrPages);
        m.writePointer(vm + vmPages, pages);
        long backing = area.backingOf(addr);
        for (int i = 0; i < nrPages; i++) {
            m.writePointer(pages + (long) i * ptr, mc.platform.virtToPage(backing + (long) i * pageSize));
        }
        // clear_vm_uninitialized_flag
        m.writePointer(vm + vmFlags, m.readPointer(vm + vmFlags) & ~VM_UNINITIALIZED);
        return vm;
    }

    /** {@code __insert_vmap_area}: by address into {@code vmap_area_root}, after its tree predecessor in the list. */
    private void insertVmapArea(long va) {
        long start = m.readPointer(va + vaStart);
        long end = m.readPointer(va + vaEnd);
        long link = rb.rootLink(vmapAreaRoot);
        long parent = 0;
        long node;
        while ((node = m.readPointer(link)) != 0) {
            parent = node;
            long tmp = node - vaRbNode;
            if (Long.compareUnsigned(start, m.readPointer(tmp + vaEnd)) < 0) {
                link = rb.leftLink(node);
            } else if (Long.compareUnsigned(end, m.readPointer(tmp + vaStart)) > 0) {
                link = rb.rightLink(node);
            } else {
                throw new IllegalStateException(String.format("__insert_vmap_area: 0x%x overlaps", start));
            }
        }
        rb.linkNode(va + vaRbNode, parent, link);
        rb.insertColor(va + vaRbNode, vmapAreaRoot);
        long prev = rb.prev(va + vaRbNode);
        lists.add(va + vaList, prev != 0 ? prev - vaRbNode + vaList : vmapAreaList);
    }

    /** {@code __find_vmap_area(addr)}: the vmap_area starting at or containing {@code addr}, or 0. */
    long findVmapArea(long addr) {
        long node = rb.rootNode(vmapAreaRoot);
        while (node != 0) {
            long va = node - vaRbNode;
            if (Long.compareUnsigned(addr, m.readPointer(va + vaStart)) < 0) {
                node = rb.left(node);
            } else if (Long.compareUnsigned(addr, m.readPointer(va + vaEnd)) >= 0) {
                node = rb.right(node);
            } else {
                return va;
            }
        }
        return 0;
    }

    /**
     * {@code vfree(addr)} ({@code __vunmap} with deallocate_pages): {@code remove_vm_area} detaches the
     * vm_struct and the vmap_area leaves the tree and the list ({@code __free_vmap_area}, here at once);
     * the pages go back, then the pages array, the vm_struct and the vmap_area are kfree'd.
     */
    void vfree(long addr) {
        long va = findVmapArea(addr);
        if (va == 0 || m.readPointer(va + vaStart) != addr) {
            throw new IllegalStateException(String.format("vfree of 0x%x: no vmap_area starts there", addr));
        }
        long vm = m.readPointer(va + vaVm);
        long pages = m.readPointer(vm + vmPages);
        rb.erase(va + vaRbNode, vmapAreaRoot);
        lists.del(va + vaList);
        area.vfree(addr);
        pagesCache.free(pages);
        vmCache.free(vm);
        vaCache.free(va);
    }
}
