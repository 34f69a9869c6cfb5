/*
 * xentest.S: an XTF-style test guest that checks the Xen guest ABI from inside.
 *
 * An unmodified-PVH kernel: Xen's PVH loader (or this project's, on KVM) jumps to start32 in
 * flat 32-bit protected mode, paging off, %ebx = the physical address of struct hvm_start_info.
 * The guest goes straight to PAE long mode (no 32-bit paging: the software KVM of the machines
 * this project runs on does not do it), identity maps the first 1 GiB with 2 MiB pages, and then
 * uses Xen only as a Xen HVM guest does: CPUID leaves, the hypercall page, shared_info,
 * vcpu_info, the callback vector and event channels.
 *
 * Built twice: xentest.elf calls Xen through the hypercall page (and says so with
 * XEN_ELFNOTE_HYPERCALL_PAGE); xentest-vmcall.elf (-DXEN_VMCALL) calls it as every current Linux
 * does, with VMCALL/VMMCALL in functions of their own (hc_stubs, xen_hypercall_intel/amd), so that
 * both of the host's ways of trapping hypercalls are exercised.
 *
 * Every check prints one line, "PASS: <step>", or "FAIL: <what>: got 0x<value>" followed by
 * "Test result: FAILURE" and SCHEDOP_shutdown(crash). A clean run ends with
 * "Test result: SUCCESS" and SCHEDOP_shutdown(poweroff). Lines go to console_io; before the
 * hypercall page exists (or when console_io fails) they go to the debug port 0xe9.
 *
 * Modes, chosen by the words of the start info command line:
 *   (none)                 the event channel checks (run_default)
 *   bench=N                5 rounds of: marker 1 (out to 0x81), N bare outs to 0x80, marker 2,
 *                          N x (clear pending bit; EVTCHNOP_send to a masked IPI port), marker 3,
 *                          N x the same through a null stub, marker 4, N x the sends through the
 *                          hypercall page, marker 5
 *   hostile=triple-fault   lidt of a zero-limit IDT, then ud2: the host must report the triple
 *                          fault
 *   hostile=ring3          hypercalls from ring 3 must get -EPERM (reported by int $0x80)
 *   hostile=bad-args       hypercalls with bad arguments must fail cleanly
 *
 * Memory (all in the image, identity mapped; addresses from the link map, see the README):
 *   0x100000   .text, .rodata, the Xen note
 *   next page  .data: page tables (PML4, PDPT, PD), GDT, descriptor pointers
 *   then       .bss, page aligned: hypercall page, shared_info page, vcpu_info page (vcpu_info at
 *              offset 0x100), IDT, per-port upcall counts, boot stack, ring-0 stack (TSS rsp0),
 *              ring-3 stack, TSS, hypercall argument blocks, line buffer.
 *
 * Calling convention inside: System V (arguments in rdi, rsi, rdx; result in rax; rbx, rbp,
 * r12-r15 preserved). Hypercalls (call hypercall_page + 32 * nr, arguments in rdi, rsi, rdx, r10,
 * r8) are treated as clobbering every caller-saved register. Interrupts are off except inside
 * the "sti; hlt" of wait_count.
 */

/* ---- struct hvm_start_info (xen/include/public/arch-x86/hvm/start_info.h) ---- */
#define PVH_START_MAGIC			0x336ec578
#define START_INFO_MAGIC		0
#define START_INFO_CMDLINE		24

/* ---- hypercalls ---- */
#define HYPERVISOR_memory_op		12
#define HYPERVISOR_xen_version		17
#define HYPERVISOR_console_io		18
#define HYPERVISOR_vcpu_op		24
#define HYPERVISOR_sched_op		29
#define HYPERVISOR_event_channel_op	32
#define HYPERVISOR_hvm_op		34
#define HYPERVISOR_unknown		120	/* no such hypercall; the page has stubs 0..127 */

/* The hypercall page's stub for nr; HC(nr) is what the guest calls: that stub, or in the
   XEN_VMCALL build a stub of its own that ends in VMCALL/VMMCALL, as every current Linux calls Xen */
#define HPAGE(nr)			(hypercall_page + 32 * (nr))
#ifdef XEN_VMCALL
#define HC(nr)				(hc_stubs + 16 * (nr))
#else
#define HC(nr)				HPAGE(nr)
#endif

#define XENVER_version			0
#define CONSOLEIO_write			0
#define XENMEM_add_to_physmap		7
#define XENMAPSPACE_shared_info		0
#define HVMOP_set_param			0
#define HVM_PARAM_CALLBACK_IRQ		0
#define VCPUOP_set_singleshot_timer	8
#define VCPUOP_register_vcpu_info	10
#define SCHEDOP_shutdown		2
#define SCHEDOP_poll			3
#define SHUTDOWN_poweroff		0
#define SHUTDOWN_crash			3

#define EVTCHNOP_bind_interdomain	0
#define EVTCHNOP_bind_virq		1
#define EVTCHNOP_close			3
#define EVTCHNOP_send			4
#define EVTCHNOP_status			5
#define EVTCHNOP_alloc_unbound		6
#define EVTCHNOP_bind_ipi		7
#define EVTCHNOP_unmask			9
#define EVTCHNOP_unknown		99

#define EVTCHNSTAT_closed		0
#define EVTCHNSTAT_unbound		1
#define EVTCHNSTAT_interdomain		2

#define VIRQ_TIMER			0
#define DOMID_SELF			0x7ff0
#define NR_PORTS			4096	/* 2-level, 64-bit guest */

#define EPERM				1
#define EFAULT				14
#define EINVAL				22
#define ENOSYS				38

/* ---- shared_info / vcpu_info, 64-bit layout ---- */
#define SI_EVTCHN_PENDING		0x800
#define SI_EVTCHN_MASK			0xa00
#define VI_UPCALL_PENDING		0
#define VI_PENDING_SEL			8
#define VI_TIME				32
#define VT_VERSION			0
#define VT_TSC_TIMESTAMP		8
#define VT_SYSTEM_TIME			16
#define VT_TSC_TO_SYSTEM_MUL		24
#define VT_TSC_SHIFT			28
#define VCPU_INFO_OFFSET		0x100	/* where in vcpu_info_page vcpu 0's vcpu_info is registered */

/* ---- this guest ---- */
#define KERNEL_CS			0x08
#define KERNEL_DS			0x10
#define USER_CS				0x18
#define USER_DS				0x20
#define TSS_SEL				0x28
#define TSS_LIMIT			(104 + 18 - 1)	/* 104-byte TSS + 17 bytes of I/O bitmap + 0xff */

#define UPCALL_VECTOR			0xf3
#define SYSCALL_VECTOR			0x80
#define GATE_KERNEL			0x8e	/* present, DPL 0, 64-bit interrupt gate */
#define GATE_USER			0xee	/* present, DPL 3, 64-bit interrupt gate */

#define DEBUG_PORT			0xe9
#define BENCH_PORT			0x80
#define MARKER_PORT			0x81
#define BENCH_ROUNDS			5

#define MAPPED_LIMIT			0x40000000	/* the page tables map [0, 1 GiB) */
#define UNMAPPED_VA			0x0000700000000000	/* canonical, not mapped */
#define NONCANONICAL_VA			0x8000000000000000
#define BEYOND_RAM_VA			0x3ffff000	/* mapped by the tables, far above 16 MiB of RAM */
#define BEYOND_RAM_GPFN			0x100000	/* 4 GiB */
#define BEYOND_RAM_PAGE_HIGH		1		/* 4 GiB = edx 1, eax 0 */

#define CMDLINE_MAX			255
#define LINE_MAX			200

#define MS				1000000
#define WAIT_NS				(1000 * MS)	/* how long any event is waited for */
#define SETTLE_NS			(1 * MS)
#define WAIT_HLT_ROUNDS			1000

#define MODE_DEFAULT			0
#define MODE_BENCH			1
#define MODE_TRIPLE_FAULT		2
#define MODE_RING3			3
#define MODE_BAD_ARGS			4

/* ------------------------------------------------------------------------------------------ */
/* Checks. Messages are string literals; FAIL_WITH never returns.                               */

/* FAIL: msg: got 0x<src> */
.macro FAIL_WITH msg, src
	mov	\src, %rsi
	lea	.Lfail_msg\@(%rip), %rdi
	call	fail
	.pushsection .rodata
.Lfail_msg\@:
	.asciz	"\msg"
	.popsection
.endm

/* fail unless reg == 0 */
.macro EXPECT_ZERO reg, msg
	test	\reg, \reg
	jz	.Lok\@
	FAIL_WITH "\msg", \reg
.Lok\@:
.endm

/* fail unless reg == val (val: $imm32, sign-extended, or a register) */
.macro EXPECT_EQ val, reg, msg
	cmp	\val, \reg
	je	.Lok\@
	FAIL_WITH "\msg", \reg
.Lok\@:
.endm

/* fail unless 0 < reg < NR_PORTS */
.macro EXPECT_PORT reg, msg
	test	\reg, \reg
	jz	.Lbad\@
	cmp	$NR_PORTS, \reg
	jb	.Lok\@
.Lbad\@:
	FAIL_WITH "\msg", \reg
.Lok\@:
.endm

/* PASS: msg */
.macro PASS msg
	lea	.Lpass_msg\@(%rip), %rdi
	call	pass
	.pushsection .rodata
.Lpass_msg\@:
	.asciz	"\msg"
	.popsection
.endm

/* a whole line */
.macro PRINTLN msg
	lea	.Lline_msg\@(%rip), %rdi
	call	putline
	.pushsection .rodata
.Lline_msg\@:
	.asciz	"\msg"
	.popsection
.endm

/* ------------------------------------------------------------------------------------------ */
/* The Xen ELF note: XEN_ELFNOTE_PHYS32_ENTRY, the 32-bit entry's physical address.             */

	.section .note.Xen, "a", @note
	.p2align 2
	.long	4			/* namesz, "Xen\0" */
	.long	4			/* descsz */
	.long	18			/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz	"Xen"
	.p2align 2
	.long	start32
#ifndef XEN_VMCALL
	/* XEN_ELFNOTE_HYPERCALL_PAGE: this guest calls Xen through the hypercall page */
	.p2align 2
	.long	4
	.long	8
	.long	2			/* XEN_ELFNOTE_HYPERCALL_PAGE */
	.asciz	"Xen"
	.p2align 2
	.quad	hypercall_page
#endif

/* ------------------------------------------------------------------------------------------ */
/* 32-bit entry: flat protected mode, paging off, %ebx = &hvm_start_info. No stack needed.      */

	.section .text.entry, "ax"
	.code32
	.globl	start32
start32:
	cli
	cld
	movl	%ebx, start_info_pa
	lgdt	gdt_ptr
	movl	%cr4, %eax
	orl	$0x20, %eax			/* CR4.PAE */
	movl	%eax, %cr4
	movl	$pml4, %eax
	movl	%eax, %cr3
	movl	$0xc0000080, %ecx		/* EFER */
	rdmsr
	orl	$0x100, %eax			/* EFER.LME */
	wrmsr
	movl	%cr0, %eax
	orl	$0x80000001, %eax		/* CR0.PG | CR0.PE */
	movl	%eax, %cr0
	ljmp	$KERNEL_CS, $start64

/* ------------------------------------------------------------------------------------------ */
	.code64
	.text
start64:
	mov	$KERNEL_DS, %eax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	xor	%eax, %eax
	mov	%ax, %fs
	mov	%ax, %gs
	/* zero .bss (the stack is in it: nothing is pushed yet) */
	lea	__bss_start(%rip), %rdi
	lea	__bss_end(%rip), %rcx
	sub	%rdi, %rcx
	shr	$3, %rcx
	xor	%eax, %eax
	rep stosq
	lea	boot_stack_top(%rip), %rsp
	call	setup_idt
	call	main
	jmp	halt_forever

main:
	/* struct hvm_start_info */
	mov	start_info_pa(%rip), %eax
	mov	%rax, %rbx
	cmp	$MAPPED_LIMIT - 64, %rax
	jb	1f
	FAIL_WITH "start info address not mapped", %rbx
1:	mov	START_INFO_MAGIC(%rbx), %eax
	EXPECT_EQ $PVH_START_MAGIC, %rax, "start info magic"
	call	copy_cmdline
	call	setup_hypercall_page
	call	print_banner
	PASS	"start info"
	PASS	"hypercall page"
	call	parse_cmdline

	mov	mode(%rip), %eax
	cmp	$MODE_BENCH, %eax
	je	run_bench
	cmp	$MODE_TRIPLE_FAULT, %eax
	je	run_triple_fault
	cmp	$MODE_RING3, %eax
	je	run_ring3
	cmp	$MODE_BAD_ARGS, %eax
	je	run_bad_args
	jmp	run_default

success:
	PRINTLN	"Test result: SUCCESS"
	mov	$SHUTDOWN_poweroff, %edi
	call	shutdown
	jmp	halt_forever

/* ------------------------------------------------------------------------------------------ */
/* Default mode: the event channel checks.                                                     */

run_default:
	call	setup_shared_info
	call	setup_vcpu_info
	call	setup_callback

	/* VIRQ_TIMER, singleshot timer in the past: fires at once */
	mov	$VIRQ_TIMER, %edi
	call	bind_virq
	mov	%eax, timer_port(%rip)
	mov	$1, %edi
	call	set_singleshot
	EXPECT_ZERO %rax, "VIRQ_TIMER: VCPUOP_set_singleshot_timer(1 ns)"
	mov	timer_port(%rip), %edi
	mov	$1, %esi
	lea	s_timer_wait(%rip), %rdx
	call	wait_count
	mov	timer_port(%rip), %edi
	call	port_count
	EXPECT_EQ $1, %rax, "VIRQ_TIMER: upcalls seen for the port"
	PASS	"VIRQ_TIMER"

	/* IPI: exactly one event per send */
	call	bind_ipi
	mov	%eax, ipi_port(%rip)
	mov	%eax, %edi
	call	evtchn_send
	EXPECT_ZERO %rax, "IPI: EVTCHNOP_send"
	mov	ipi_port(%rip), %edi
	mov	$1, %esi
	lea	s_ipi_wait(%rip), %rdx
	call	wait_count
	call	settle
	mov	ipi_port(%rip), %edi
	call	port_count
	EXPECT_EQ $1, %rax, "IPI: upcalls seen for the port"
	PASS	"IPI"

	/* a masked port: pending, no upcall; EVTCHNOP_unmask delivers it */
	call	bind_ipi
	mov	%eax, masked_port(%rip)
	mov	%eax, %edi
	call	mask_port
	mov	masked_port(%rip), %edi
	call	evtchn_send
	EXPECT_ZERO %rax, "masked port: EVTCHNOP_send"
	mov	masked_port(%rip), %edi
	call	is_pending
	EXPECT_EQ $1, %rax, "masked port: pending bit after send"
	call	upcall_pending
	EXPECT_ZERO %rax, "masked port: upcall_pending after send"
	call	now
	lea	SETTLE_NS(%rax), %rsi
	mov	ipi_port(%rip), %edi
	call	sched_poll
	EXPECT_ZERO %rax, "masked port: SCHEDOP_poll of another port"
	call	upcall_pending
	EXPECT_ZERO %rax, "masked port: upcall_pending after poll"
	mov	vcpu_info_ptr(%rip), %rax
	mov	VI_PENDING_SEL(%rax), %rax
	mov	masked_port(%rip), %ecx
	shr	$6, %ecx
	bt	%rcx, %rax
	jnc	1f
	FAIL_WITH "masked port: evtchn_pending_sel", %rax
1:	call	settle
	mov	masked_port(%rip), %edi
	call	port_count
	EXPECT_ZERO %rax, "masked port: upcalls seen for the port while masked"
	mov	masked_port(%rip), %edi
	call	is_pending
	EXPECT_EQ $1, %rax, "masked port: pending bit while masked"
	mov	masked_port(%rip), %edi
	call	evtchn_unmask
	EXPECT_ZERO %rax, "masked port: EVTCHNOP_unmask"
	mov	masked_port(%rip), %edi
	call	is_masked
	EXPECT_ZERO %rax, "masked port: mask bit after EVTCHNOP_unmask"
	mov	masked_port(%rip), %edi
	mov	$1, %esi
	lea	s_unmask_wait(%rip), %rdx
	call	wait_count
	mov	masked_port(%rip), %edi
	call	is_pending
	EXPECT_ZERO %rax, "masked port: pending bit after the upcall"
	PASS	"masked port"

	/* SCHEDOP_poll: a masked idle port times out, no earlier than asked */
	mov	vcpu_info_ptr(%rip), %rax
	mov	VI_TIME + VT_TSC_TO_SYSTEM_MUL(%rax), %eax
	test	%eax, %eax
	jnz	1f
	FAIL_WITH "pvclock: tsc_to_system_mul", %rax
1:	mov	masked_port(%rip), %edi
	call	mask_port
	call	now
	mov	%rax, %r12
	lea	2 * MS(%rax), %rsi
	mov	masked_port(%rip), %edi
	call	sched_poll
	EXPECT_ZERO %rax, "poll timeout: SCHEDOP_poll"
	call	now
	sub	%r12, %rax
	cmp	$2 * MS, %rax
	jae	1f
	FAIL_WITH "poll timeout: returned early, ns", %rax
1:	cmp	$WAIT_NS, %rax
	jb	1f
	FAIL_WITH "poll timeout: returned late, ns", %rax
1:	mov	masked_port(%rip), %edi
	call	is_pending
	EXPECT_ZERO %rax, "poll timeout: port pending"
	PASS	"poll timeout"

	/* SCHEDOP_poll is woken by its port: the (masked) timer port, 1 ms ahead */
	mov	timer_port(%rip), %edi
	call	mask_port
	call	now
	mov	%rax, %r12
	lea	1 * MS(%rax), %rdi
	call	set_singleshot
	EXPECT_ZERO %rax, "poll wakeup: VCPUOP_set_singleshot_timer"
	lea	WAIT_NS(%r12), %rsi
	mov	timer_port(%rip), %edi
	call	sched_poll
	EXPECT_ZERO %rax, "poll wakeup: SCHEDOP_poll"
	call	now
	sub	%r12, %rax
	cmp	$WAIT_NS / 2, %rax
	jb	1f
	FAIL_WITH "poll wakeup: not woken by the port, ns", %rax
1:	mov	timer_port(%rip), %edi
	call	is_pending
	EXPECT_EQ $1, %rax, "poll wakeup: timer port pending"
	mov	timer_port(%rip), %edi
	call	port_count
	lea	1(%rax), %ebx
	mov	timer_port(%rip), %edi
	call	evtchn_unmask
	EXPECT_ZERO %rax, "poll wakeup: EVTCHNOP_unmask"
	mov	timer_port(%rip), %edi
	mov	%ebx, %esi
	lea	s_timer_unmask_wait(%rip), %rdx
	call	wait_count
	PASS	"poll wakeup"

	/* interdomain loopback: A unbound, B bound to A */
	lea	hc_arg(%rip), %rsi
	movw	$DOMID_SELF, 0(%rsi)		/* dom */
	movw	$DOMID_SELF, 2(%rsi)		/* remote_dom */
	movl	$0, 4(%rsi)			/* port (out) */
	mov	$EVTCHNOP_alloc_unbound, %edi
	call	HC(HYPERVISOR_event_channel_op)
	EXPECT_ZERO %rax, "interdomain: EVTCHNOP_alloc_unbound"
	mov	hc_arg + 4(%rip), %eax
	EXPECT_PORT %rax, "interdomain: EVTCHNOP_alloc_unbound port"
	mov	%eax, port_a(%rip)
	lea	hc_arg(%rip), %rsi
	movw	$DOMID_SELF, 0(%rsi)		/* remote_dom */
	movw	$0, 2(%rsi)
	mov	%eax, 4(%rsi)			/* remote_port */
	movl	$0, 8(%rsi)			/* local_port (out) */
	mov	$EVTCHNOP_bind_interdomain, %edi
	call	HC(HYPERVISOR_event_channel_op)
	EXPECT_ZERO %rax, "interdomain: EVTCHNOP_bind_interdomain"
	mov	hc_arg + 8(%rip), %eax
	EXPECT_PORT %rax, "interdomain: EVTCHNOP_bind_interdomain port"
	mov	%eax, port_b(%rip)
	cmp	port_a(%rip), %eax
	jne	1f
	FAIL_WITH "interdomain: B is A", %rax
1:	/* Xen sets the new local port pending (sends to the unbound port were lost) */
	mov	port_b(%rip), %edi
	call	is_pending
	EXPECT_EQ $1, %rax, "interdomain: B pending after bind_interdomain"
	mov	port_b(%rip), %edi
	mov	$1, %esi
	lea	s_bind_wait(%rip), %rdx
	call	wait_count
	mov	port_b(%rip), %edi
	call	evtchn_send
	EXPECT_ZERO %rax, "interdomain: EVTCHNOP_send on B"
	mov	port_a(%rip), %edi
	mov	$1, %esi
	lea	s_a_wait(%rip), %rdx
	call	wait_count
	mov	port_a(%rip), %edi
	call	evtchn_send
	EXPECT_ZERO %rax, "interdomain: EVTCHNOP_send on A"
	mov	port_b(%rip), %edi
	mov	$2, %esi
	lea	s_b_wait(%rip), %rdx
	call	wait_count
	call	settle
	mov	port_a(%rip), %edi
	call	port_count
	EXPECT_EQ $1, %rax, "interdomain: upcalls seen for A"
	mov	port_b(%rip), %edi
	call	port_count
	EXPECT_EQ $2, %rax, "interdomain: upcalls seen for B"
	PASS	"interdomain loopback"

	/* EVTCHNOP_status and close */
	mov	port_a(%rip), %edi
	call	evtchn_status
	EXPECT_ZERO %rax, "status: EVTCHNOP_status of A"
	mov	status_arg + 8(%rip), %eax
	EXPECT_EQ $EVTCHNSTAT_interdomain, %rax, "status: status of A"
	mov	status_arg + 20(%rip), %eax
	mov	port_b(%rip), %ecx
	EXPECT_EQ %rcx, %rax, "status: interdomain port of A"
	mov	port_b(%rip), %edi
	call	evtchn_status
	EXPECT_ZERO %rax, "status: EVTCHNOP_status of B"
	mov	status_arg + 8(%rip), %eax
	EXPECT_EQ $EVTCHNSTAT_interdomain, %rax, "status: status of B"
	mov	status_arg + 20(%rip), %eax
	mov	port_a(%rip), %ecx
	EXPECT_EQ %rcx, %rax, "status: interdomain port of B"
	mov	port_a(%rip), %edi
	call	evtchn_close
	EXPECT_ZERO %rax, "status: EVTCHNOP_close of A"
	mov	port_b(%rip), %edi
	call	evtchn_status
	EXPECT_ZERO %rax, "status: EVTCHNOP_status of B after closing A"
	mov	status_arg + 8(%rip), %eax
	EXPECT_EQ $EVTCHNSTAT_unbound, %rax, "status: status of B after closing A"
	mov	port_b(%rip), %edi
	call	evtchn_close
	EXPECT_ZERO %rax, "status: EVTCHNOP_close of B"
	mov	port_b(%rip), %edi
	call	evtchn_status
	EXPECT_ZERO %rax, "status: EVTCHNOP_status of B after closing B"
	mov	status_arg + 8(%rip), %eax
	EXPECT_EQ $EVTCHNSTAT_closed, %rax, "status: status of B after closing B"
	PASS	"status and close"
	jmp	success

/* ------------------------------------------------------------------------------------------ */
/* bench=N: exit costs, timed by the host between the markers.                                 */

run_bench:
	call	setup_shared_info
	call	setup_vcpu_info
	call	bind_ipi
	mov	%eax, %ebx
	mov	%eax, %edi
	call	mask_port
	mov	%ebx, send_arg(%rip)
	PASS	"bench setup"
	mov	bench_n(%rip), %r12
	mov	$BENCH_ROUNDS, %r13d
.Lbench_round:
	mov	$1, %eax
	out	%eax, $MARKER_PORT
	mov	%r12, %rcx
	test	%rcx, %rcx
	jz	2f
1:	out	%eax, $BENCH_PORT
	dec	%rcx
	jnz	1b
2:	mov	$2, %eax
	out	%eax, $MARKER_PORT
	mov	%r12, %r14
	test	%r14, %r14
	jz	4f
3:	lock btr %rbx, shared_info + SI_EVTCHN_PENDING(%rip)
	mov	$EVTCHNOP_send, %edi
	lea	send_arg(%rip), %rsi
	call	HC(HYPERVISOR_event_channel_op)
	EXPECT_ZERO %rax, "bench: EVTCHNOP_send"
	dec	%r14
	jnz	3b
	/* Checked before the null-stub phase, whose guest work clears the bit again. */
	mov	%ebx, %edi
	call	is_pending
	EXPECT_EQ $1, %rax, "bench: port pending after the last send"
4:	mov	$3, %eax
	out	%eax, $MARKER_PORT
	/* The same guest work with a stub of its own whose out goes to BENCH_PORT: all but the host's hypercall work. */
	mov	%r12, %r14
	test	%r14, %r14
	jz	6f
5:	lock btr %rbx, shared_info + SI_EVTCHN_PENDING(%rip)
	mov	$EVTCHNOP_send, %edi
	lea	send_arg(%rip), %rsi
	call	bench_null_stub
	EXPECT_ZERO %rax, "bench: null stub"
	dec	%r14
	jnz	5b
6:	mov	$4, %eax
	out	%eax, $MARKER_PORT
	/* The sends again, through the hypercall page: in the XEN_VMCALL build the other path, in the
	   same guest and round; in the other build the same path as phase 2. */
	mov	%r12, %r14
	test	%r14, %r14
	jz	8f
7:	lock btr %rbx, shared_info + SI_EVTCHN_PENDING(%rip)
	mov	$EVTCHNOP_send, %edi
	lea	send_arg(%rip), %rsi
	call	HPAGE(HYPERVISOR_event_channel_op)
	EXPECT_ZERO %rax, "bench: EVTCHNOP_send through the hypercall page"
	dec	%r14
	jnz	7b
8:	mov	$5, %eax
	out	%eax, $MARKER_PORT
	dec	%r13d
	jnz	.Lbench_round
	PASS	"bench"
	jmp	success

/*
 * bench_null_stub: shaped like a hypercall stub (mov $nr,%eax; out; ret) on a page of its own, as
 * the hypercall page is, but its out goes to BENCH_PORT, which the host ignores; returns 0.
 */
	.pushsection .text.bench_stub, "ax"
	.p2align 12
bench_null_stub:
	mov	$HYPERVISOR_event_channel_op, %eax
	out	%eax, $BENCH_PORT
	xor	%eax, %eax
	ret
	.popsection

#ifdef XEN_VMCALL
/*
 * Hypercalls as every current Linux makes them: rax = the number, then VMCALL (Intel) or
 * VMMCALL (AMD) in a function of its own, 16-byte aligned and followed at once by ret: what the
 * host recognises in the image to put a hardware breakpoint on it. hc_stubs + 16 * nr loads nr
 * and jumps through xen_hypercall_fn, which setup_hypercall_page points at the vendor's one.
 */
	.p2align 4
hc_stubs:
	.set	hc_nr, 0
	.rept	128
	.p2align 4
	mov	$hc_nr, %eax
	jmp	*xen_hypercall_fn(%rip)
	.set	hc_nr, hc_nr + 1
	.endr

	.p2align 4
xen_hypercall_intel:
	vmcall
	ret

	.p2align 4
xen_hypercall_amd:
	vmmcall
	ret
#endif

/* ------------------------------------------------------------------------------------------ */
/* hostile=triple-fault                                                                        */

/*
 * An exception with a zero-limit IDT: it cannot be delivered (#GP), neither can that (#DF): a
 * triple fault. ud2 rather than int3: the software KVM this project meets cannot emulate
 * "int n"/int3 in the guest kernel (KVM_EXIT_INTERNAL_ERROR, emulation), while a hardware
 * exception (#UD) becomes the triple fault (KVM_EXIT_SHUTDOWN) everywhere.
 */
run_triple_fault:
	PRINTLN	"xentest: triple fault now"
	lidt	zero_idt_ptr(%rip)
	ud2
	FAIL_WITH "triple fault: ud2 returned", $0

/* ------------------------------------------------------------------------------------------ */
/* hostile=ring3: hypercalls from ring 3 get -EPERM.                                            */

run_ring3:
	/* 64-bit TSS: rsp0, I/O bitmap at 104 that allows only ports 0x7e-0x81 (the stubs' 4-byte
	   out to 0x7e), so that a ring-3 hypercall reaches the host, which must refuse it */
	lea	tss(%rip), %rdi
	lea	ring0_stack_top(%rip), %rax
	mov	%rax, 4(%rdi)			/* rsp0 */
	movw	$104, 102(%rdi)			/* I/O map base */
	lea	104(%rdi), %rdx
	xor	%ecx, %ecx
1:	movb	$0xff, (%rdx,%rcx)
	inc	%ecx
	cmp	$18, %ecx
	jb	1b
	movb	$0x3f, 15(%rdx)			/* ports 0x7e, 0x7f */
	movb	$0xfc, 16(%rdx)			/* ports 0x80, 0x81 */
	/* the TSS descriptor, GDT[5..6] */
	mov	%rdi, %rax
	mov	$TSS_LIMIT, %ecx
	mov	%rax, %rdx
	and	$0xffffff, %edx
	shl	$16, %rdx
	or	%rdx, %rcx			/* base 23:0 */
	movabs	$0x0000890000000000, %rdx	/* present, type 9: available 64-bit TSS */
	or	%rdx, %rcx
	mov	%rax, %rdx
	shr	$24, %rdx
	and	$0xff, %edx
	shl	$56, %rdx
	or	%rdx, %rcx			/* base 31:24 */
	lea	gdt(%rip), %rsi
	mov	%rcx, TSS_SEL(%rsi)
	shr	$32, %rax
	mov	%rax, TSS_SEL + 8(%rsi)		/* base 63:32 */
	mov	$TSS_SEL, %eax
	ltr	%ax
	mov	$SYSCALL_VECTOR, %edi
	lea	syscall_entry(%rip), %rsi
	mov	$GATE_USER, %edx
	call	set_gate
	PRINTLN	"xentest: entering ring 3"
	/* iretq to ring 3, IOPL 0, interrupts off */
	push	$(USER_DS | 3)
	lea	user_stack_top(%rip), %rax
	push	%rax
	push	$0x2
	push	$(USER_CS | 3)
	lea	user_entry(%rip), %rax
	push	%rax
	iretq

/* ring 3 */
user_entry:
	mov	$XENVER_version, %edi
	xor	%esi, %esi
	call	HC(HYPERVISOR_xen_version)
	mov	%rax, %r12
	mov	$CONSOLEIO_write, %edi
	mov	$s_ring3_console_end - s_ring3_console, %esi
	lea	s_ring3_console(%rip), %rdx
	call	HC(HYPERVISOR_console_io)
	mov	%rax, %rsi
	mov	%r12, %rdi
user_int80:
	int	$SYSCALL_VECTOR
	ud2					/* int $0x80 does not return */

/* int $0x80 from ring 3: rdi = xen_version's result, rsi = console_io's */
syscall_entry:
	mov	%rdi, %r12
	mov	%rsi, %r13
	mov	8(%rsp), %r14			/* the caller's cs */
/* ring3_report(%r12 xen_version's result, %r13 console_io's, %r14 the caller's cs) */
ring3_report:
	mov	%r14, %rax
	and	$3, %eax
	EXPECT_EQ $3, %rax, "ring 3: the report came from cpl"
	EXPECT_EQ $-EPERM, %r12, "ring 3: xen_version"
	PASS	"ring-3 xen_version -EPERM"
	EXPECT_EQ $-EPERM, %r13, "ring 3: console_io"
	PASS	"ring-3 console_io -EPERM"
	jmp	success

/* ------------------------------------------------------------------------------------------ */
/* hostile=bad-args: hypercalls that must fail cleanly.                                        */

run_bad_args:
	call	setup_shared_info
	call	setup_vcpu_info

	xor	%edi, %edi
	xor	%esi, %esi
	call	HC(HYPERVISOR_unknown)
	EXPECT_EQ $-ENOSYS, %rax, "unknown hypercall 120"
	PASS	"unknown hypercall -ENOSYS"

	mov	$EVTCHNOP_unknown, %edi
	lea	hc_arg(%rip), %rsi
	call	HC(HYPERVISOR_event_channel_op)
	EXPECT_EQ $-ENOSYS, %rax, "event_channel_op sub-op 99"
	PASS	"unknown event_channel_op -ENOSYS"

	mov	$EVTCHNOP_send, %edi
	movabs	$UNMAPPED_VA, %rsi
	call	HC(HYPERVISOR_event_channel_op)
	EXPECT_EQ $-EFAULT, %rax, "EVTCHNOP_send, unmapped argument"
	mov	$EVTCHNOP_status, %edi
	movabs	$UNMAPPED_VA, %rsi
	call	HC(HYPERVISOR_event_channel_op)
	EXPECT_EQ $-EFAULT, %rax, "EVTCHNOP_status, unmapped argument"
	PASS	"unmapped argument -EFAULT"

	mov	$EVTCHNOP_send, %edi
	movabs	$NONCANONICAL_VA, %rsi
	call	HC(HYPERVISOR_event_channel_op)
	EXPECT_EQ $-EFAULT, %rax, "EVTCHNOP_send, non-canonical argument"
	mov	$EVTCHNOP_status, %edi
	movabs	$NONCANONICAL_VA, %rsi
	call	HC(HYPERVISOR_event_channel_op)
	EXPECT_EQ $-EFAULT, %rax, "EVTCHNOP_status, non-canonical argument"
	PASS	"non-canonical argument -EFAULT"

	mov	$EVTCHNOP_send, %edi
	mov	$BEYOND_RAM_VA, %esi
	call	HC(HYPERVISOR_event_channel_op)
	EXPECT_EQ $-EFAULT, %rax, "EVTCHNOP_send, argument mapped beyond RAM"
	mov	$EVTCHNOP_status, %edi
	mov	$BEYOND_RAM_VA, %esi
	call	HC(HYPERVISOR_event_channel_op)
	EXPECT_EQ $-EFAULT, %rax, "EVTCHNOP_status, argument mapped beyond RAM"
	PASS	"argument beyond RAM -EFAULT"

	mov	$NR_PORTS - 1, %edi
	call	evtchn_send
	EXPECT_EQ $-EINVAL, %rax, "EVTCHNOP_send to port 4095"
	mov	$0xffffffff, %edi
	call	evtchn_send
	EXPECT_EQ $-EINVAL, %rax, "EVTCHNOP_send to port 0xffffffff"
	PASS	"send to bad ports -EINVAL"

	lea	poll_arg(%rip), %rsi
	lea	poll_ports(%rip), %rax
	mov	%rax, 0(%rsi)
	movl	$129, 8(%rsi)			/* nr_ports: Xen allows at most 128 */
	movl	$0, 12(%rsi)
	movq	$0, 16(%rsi)
	mov	$SCHEDOP_poll, %edi
	call	HC(HYPERVISOR_sched_op)
	EXPECT_EQ $-EINVAL, %rax, "SCHEDOP_poll of 129 ports"
	PASS	"poll of 129 ports -EINVAL"

	mov	$CONSOLEIO_write, %edi
	mov	$0x7fffffff, %esi
	movabs	$UNMAPPED_VA, %rdx
	call	HC(HYPERVISOR_console_io)
	test	%rax, %rax
	js	1f
	FAIL_WITH "console_io of an unmapped buffer", %rax
1:	PASS	"console_io of an unmapped buffer refused"

	lea	hc_arg(%rip), %rsi
	movw	$DOMID_SELF, 0(%rsi)
	movw	$0, 2(%rsi)
	movl	$XENMAPSPACE_shared_info, 4(%rsi)
	movq	$0, 8(%rsi)
	movq	$BEYOND_RAM_GPFN, 16(%rsi)
	mov	$XENMEM_add_to_physmap, %edi
	call	HC(HYPERVISOR_memory_op)
	test	%rax, %rax
	js	1f
	FAIL_WITH "XENMEM_add_to_physmap shared_info beyond RAM", %rax
1:	PASS	"shared_info beyond RAM refused"

	movb	$1, expect_gp(%rip)
	mov	hypercall_msr(%rip), %ecx
	xor	%eax, %eax
	mov	$BEYOND_RAM_PAGE_HIGH, %edx
	wrmsr					/* #GP: exc_common skips these 2 bytes */
	movzbl	expect_gp(%rip), %eax
	movb	$0, expect_gp(%rip)
	EXPECT_ZERO %rax, "hypercall page beyond RAM: no #GP"
	mov	gp_count(%rip), %eax
	EXPECT_EQ $1, %rax, "hypercall page beyond RAM: #GP count"
	PASS	"hypercall page beyond RAM #GP"

	/* still a working guest: hypercall page, shared_info where it was */
	mov	$XENVER_version, %edi
	xor	%esi, %esi
	call	HC(HYPERVISOR_xen_version)
	mov	xen_version(%rip), %ecx
	EXPECT_EQ %rcx, %rax, "intact: xen_version"
	call	bind_ipi
	mov	%eax, %ebx
	mov	%eax, %edi
	call	mask_port
	mov	%ebx, %edi
	call	evtchn_send
	EXPECT_ZERO %rax, "intact: EVTCHNOP_send"
	mov	%ebx, %edi
	call	is_pending
	EXPECT_EQ $1, %rax, "intact: pending bit in shared_info"
	PASS	"guest intact"
	jmp	success

/* ------------------------------------------------------------------------------------------ */
/* Setup steps.                                                                                */

/* CPUID leaves, hypercall page, xen_version >= 4 */
setup_hypercall_page:
	push	%rbx
	push	%r12
#ifdef XEN_VMCALL
	/* Linux's xen_hypercall_setfunc: VMMCALL on AMD and Hygon, VMCALL elsewhere */
	xor	%eax, %eax
	cpuid
	lea	xen_hypercall_intel(%rip), %rax
	lea	xen_hypercall_amd(%rip), %rsi
	cmp	$0x68747541, %ebx		/* "Auth" enticAMD */
	cmove	%rsi, %rax
	cmp	$0x6f677948, %ebx		/* "Hygo" nGenuine */
	cmove	%rsi, %rax
	mov	%rax, xen_hypercall_fn(%rip)
#endif
	mov	$0x40000000, %r12d
1:	mov	%r12d, %eax
	xor	%ecx, %ecx
	cpuid
	cmp	$0x566e6558, %ebx		/* "XenV" */
	jne	2f
	cmp	$0x65584d4d, %ecx		/* "MMXe" */
	jne	2f
	cmp	$0x4d4d566e, %edx		/* "nVMM" */
	jne	2f
	lea	2(%r12), %ecx
	cmp	%ecx, %eax			/* the hypercall leaf exists */
	jae	3f
2:	add	$0x100, %r12d
	cmp	$0x40010000, %r12d
	jb	1b
	FAIL_WITH "Xen CPUID leaves not found", $0
3:	lea	2(%r12), %eax
	xor	%ecx, %ecx
	cpuid
	mov	%ebx, hypercall_msr(%rip)
	mov	%ebx, %ecx
	lea	hypercall_page(%rip), %rax
	mov	%rax, %rdx
	shr	$32, %rdx
	wrmsr
	movzbl	HPAGE(HYPERVISOR_xen_version)(%rip), %eax
	test	%eax, %eax
	jnz	4f
	mov	hypercall_msr(%rip), %eax
	FAIL_WITH "hypercall page not filled; MSR", %rax
4:	movb	$1, hypercall_ready(%rip)
	mov	$XENVER_version, %edi
	xor	%esi, %esi
	call	HC(HYPERVISOR_xen_version)
	mov	%rax, %rbx
	shr	$32, %rax
	jz	5f
	FAIL_WITH "xen_version(XENVER_version)", %rbx
5:	cmp	$0x40000, %ebx
	jae	6f
	FAIL_WITH "xen_version(XENVER_version) major below 4", %rbx
6:	mov	%ebx, xen_version(%rip)
	pop	%r12
	pop	%rbx
	ret

setup_shared_info:
	lea	shared_info(%rip), %rax
	mov	%rax, vcpu_info_ptr(%rip)	/* vcpu_info[0] until one is registered */
	lea	hc_arg(%rip), %rsi
	movw	$DOMID_SELF, 0(%rsi)
	movw	$0, 2(%rsi)
	movl	$XENMAPSPACE_shared_info, 4(%rsi)
	movq	$0, 8(%rsi)			/* idx */
	shr	$12, %rax
	mov	%rax, 16(%rsi)			/* gpfn */
	mov	$XENMEM_add_to_physmap, %edi
	call	HC(HYPERVISOR_memory_op)
	EXPECT_ZERO %rax, "shared_info: XENMEM_add_to_physmap"
	PASS	"shared_info"
	ret

setup_vcpu_info:
	lea	hc_arg(%rip), %rdx
	lea	vcpu_info_page(%rip), %rax
	shr	$12, %rax
	mov	%rax, 0(%rdx)			/* mfn (a gfn for HVM) */
	movl	$VCPU_INFO_OFFSET, 8(%rdx)	/* offset */
	movl	$0, 12(%rdx)
	mov	$VCPUOP_register_vcpu_info, %edi
	xor	%esi, %esi			/* vcpu 0 */
	call	HC(HYPERVISOR_vcpu_op)
	EXPECT_ZERO %rax, "vcpu_info: VCPUOP_register_vcpu_info"
	lea	vcpu_info_page + VCPU_INFO_OFFSET(%rip), %rax
	mov	%rax, vcpu_info_ptr(%rip)
	PASS	"vcpu_info"
	ret

setup_callback:
	lea	hc_arg(%rip), %rsi
	movw	$DOMID_SELF, 0(%rsi)
	movw	$0, 2(%rsi)
	movl	$HVM_PARAM_CALLBACK_IRQ, 4(%rsi)
	movabs	$(2 << 56) | UPCALL_VECTOR, %rax	/* type 2: vector */
	mov	%rax, 8(%rsi)
	mov	$HVMOP_set_param, %edi
	call	HC(HYPERVISOR_hvm_op)
	EXPECT_ZERO %rax, "callback vector: HVMOP_set_param(HVM_PARAM_CALLBACK_IRQ)"
	PASS	"callback vector"
	ret

/* ------------------------------------------------------------------------------------------ */
/* Event channel and timer helpers.                                                           */

/* bind_ipi() -> %eax = port (fails the test on error) */
bind_ipi:
	lea	hc_arg(%rip), %rsi
	movl	$0, 0(%rsi)			/* vcpu */
	movl	$0, 4(%rsi)			/* port (out) */
	mov	$EVTCHNOP_bind_ipi, %edi
	call	HC(HYPERVISOR_event_channel_op)
	EXPECT_ZERO %rax, "EVTCHNOP_bind_ipi"
	mov	hc_arg + 4(%rip), %eax
	EXPECT_PORT %rax, "EVTCHNOP_bind_ipi port"
	ret

/* bind_virq(%edi virq) -> %eax = port, on vcpu 0 */
bind_virq:
	lea	hc_arg(%rip), %rsi
	mov	%edi, 0(%rsi)			/* virq */
	movl	$0, 4(%rsi)			/* vcpu */
	movl	$0, 8(%rsi)			/* port (out) */
	mov	$EVTCHNOP_bind_virq, %edi
	call	HC(HYPERVISOR_event_channel_op)
	EXPECT_ZERO %rax, "EVTCHNOP_bind_virq"
	mov	hc_arg + 8(%rip), %eax
	EXPECT_PORT %rax, "EVTCHNOP_bind_virq port"
	ret

/* evtchn_send / _unmask / _close(%edi port) -> %rax */
evtchn_send:
	mov	%edi, send_arg(%rip)
	mov	$EVTCHNOP_send, %edi
	lea	send_arg(%rip), %rsi
	jmp	HC(HYPERVISOR_event_channel_op)

evtchn_unmask:
	mov	%edi, port_arg(%rip)
	mov	$EVTCHNOP_unmask, %edi
	lea	port_arg(%rip), %rsi
	jmp	HC(HYPERVISOR_event_channel_op)

evtchn_close:
	mov	%edi, port_arg(%rip)
	mov	$EVTCHNOP_close, %edi
	lea	port_arg(%rip), %rsi
	jmp	HC(HYPERVISOR_event_channel_op)

/* evtchn_status(%edi port) -> %rax; the answer in status_arg (out fields preset to all ones) */
evtchn_status:
	lea	status_arg(%rip), %rsi
	movw	$DOMID_SELF, 0(%rsi)
	movw	$0, 2(%rsi)
	mov	%edi, 4(%rsi)
	movq	$-1, 8(%rsi)
	movq	$-1, 16(%rsi)
	mov	$EVTCHNOP_status, %edi
	jmp	HC(HYPERVISOR_event_channel_op)

/* sched_poll(%edi port, %rsi timeout, absolute system time ns) -> %rax */
sched_poll:
	mov	%edi, poll_ports(%rip)
	lea	poll_arg(%rip), %rdx
	lea	poll_ports(%rip), %rax
	mov	%rax, 0(%rdx)			/* ports */
	movl	$1, 8(%rdx)			/* nr_ports */
	movl	$0, 12(%rdx)
	mov	%rsi, 16(%rdx)			/* timeout */
	mov	$SCHEDOP_poll, %edi
	mov	%rdx, %rsi
	jmp	HC(HYPERVISOR_sched_op)

/* set_singleshot(%rdi timeout, absolute system time ns) -> %rax, vcpu 0, flags 0 */
set_singleshot:
	lea	timer_arg(%rip), %rdx
	mov	%rdi, 0(%rdx)			/* timeout_abs_ns */
	movq	$0, 8(%rdx)			/* flags */
	mov	$VCPUOP_set_singleshot_timer, %edi
	xor	%esi, %esi
	jmp	HC(HYPERVISOR_vcpu_op)

/* is_pending / is_masked(%edi port) -> %rax 0 or 1 */
is_pending:
	mov	%edi, %edi
	xor	%eax, %eax
	bt	%rdi, shared_info + SI_EVTCHN_PENDING(%rip)
	setc	%al
	ret

is_masked:
	mov	%edi, %edi
	xor	%eax, %eax
	bt	%rdi, shared_info + SI_EVTCHN_MASK(%rip)
	setc	%al
	ret

/* mask_port(%edi port) */
mask_port:
	mov	%edi, %edi
	lock bts %rdi, shared_info + SI_EVTCHN_MASK(%rip)
	ret

/* port_count(%edi port) -> %rax, upcalls that found the port pending */
port_count:
	mov	%edi, %edi
	lea	port_counts(%rip), %rax
	mov	(%rax,%rdi,4), %eax
	ret

/* upcall_pending() -> %rax, the registered vcpu_info's evtchn_upcall_pending */
upcall_pending:
	mov	vcpu_info_ptr(%rip), %rax
	movzbl	VI_UPCALL_PENDING(%rax), %eax
	ret

/*
 * now() -> %rax, Xen system time in ns from the pvclock in the registered vcpu_info:
 * system_time + ((rdtsc - tsc_timestamp) << tsc_shift (>> if negative)) * tsc_to_system_mul >> 32,
 * retried while the version is odd or changes.
 */
now:
	mov	vcpu_info_ptr(%rip), %rsi
	add	$VI_TIME, %rsi
1:	mov	VT_VERSION(%rsi), %r8d
	test	$1, %r8d
	jz	2f
	pause
	jmp	1b
2:	lfence
	mov	VT_TSC_TIMESTAMP(%rsi), %r9
	mov	VT_SYSTEM_TIME(%rsi), %rdi
	mov	VT_TSC_TO_SYSTEM_MUL(%rsi), %r10d
	movsbl	VT_TSC_SHIFT(%rsi), %r11d
	rdtsc
	shl	$32, %rdx
	or	%rdx, %rax
	lfence
	cmp	VT_VERSION(%rsi), %r8d
	jne	1b
	sub	%r9, %rax
	mov	%r11d, %ecx
	test	%ecx, %ecx
	js	3f
	shl	%cl, %rax
	jmp	4f
3:	neg	%ecx
	shr	%cl, %rax
4:	mul	%r10				/* rdx:rax = delta * mul */
	shrd	$32, %rdx, %rax
	add	%rdi, %rax
	ret

/*
 * wait_count(%edi port, %esi target, %rdx message): until the upcall handler has counted the
 * port target times. Each round polls the port (bounded, WAIT_NS), so that a missing event
 * fails with the message instead of halting forever; once it is pending, upcall_pending must
 * be set and "sti; hlt" takes the upcall (a hlt that keeps returning without it fails after
 * WAIT_HLT_ROUNDS rounds rather than spinning).
 */
wait_count:
	push	%rbx
	push	%r12
	push	%r13
	push	%r14
	mov	%edi, %ebx
	mov	%esi, %r12d
	mov	%rdx, %r13
	xor	%r14d, %r14d			/* hlt rounds */
1:	mov	%ebx, %edi
	call	port_count
	cmp	%r12d, %eax
	jae	4f
	call	now
	lea	WAIT_NS(%rax), %rsi
	mov	%ebx, %edi
	call	sched_poll
	EXPECT_ZERO %rax, "wait: SCHEDOP_poll"
	mov	%ebx, %edi
	call	is_pending
	test	%eax, %eax
	jnz	2f
	mov	%ebx, %edi
	call	port_count
	mov	%rax, %rsi
	mov	%r13, %rdi
	call	fail
2:	call	upcall_pending
	test	%eax, %eax
	jnz	3f
	FAIL_WITH "wait: port pending, upcall_pending not set; port", %rbx
3:	inc	%r14d
	cmp	$WAIT_HLT_ROUNDS, %r14d
	jbe	5f
	FAIL_WITH "wait: upcall_pending set, but sti; hlt did not take the upcall; rounds", %r14
5:	sti
	hlt
	cli
	jmp	1b
4:	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbx
	ret

/* settle(): let pending upcalls in: a singleshot timer 1 ms ahead, waited for with sti; hlt */
settle:
	push	%rbx
	push	%r12
	mov	timer_port(%rip), %ebx
	mov	%ebx, %edi
	call	port_count
	lea	1(%rax), %r12d
	call	now
	lea	SETTLE_NS(%rax), %rdi
	call	set_singleshot
	EXPECT_ZERO %rax, "settle: VCPUOP_set_singleshot_timer"
	mov	%ebx, %edi
	mov	%r12d, %esi
	lea	s_settle_wait(%rip), %rdx
	call	wait_count
	pop	%r12
	pop	%rbx
	ret

/* ------------------------------------------------------------------------------------------ */
/* Interrupts.                                                                                */

/* set_gate(%edi vector, %rsi handler, %edx type/attributes) */
set_gate:
	mov	%edi, %edi
	shl	$4, %rdi
	lea	idt(%rip), %rax
	add	%rdi, %rax
	mov	%si, 0(%rax)
	movw	$KERNEL_CS, 2(%rax)
	movb	$0, 4(%rax)
	mov	%dl, 5(%rax)
	shr	$16, %rsi
	mov	%si, 6(%rax)
	shr	$16, %rsi
	mov	%esi, 8(%rax)
	movl	$0, 12(%rax)
	ret

setup_idt:
	push	%rbx
	mov	$32, %ebx
1:	mov	%ebx, %edi
	lea	-32(%rbx), %rsi
	shl	$4, %rsi
	lea	irq_stubs(%rip), %rax
	add	%rax, %rsi
	mov	$GATE_KERNEL, %edx
	call	set_gate
	inc	%ebx
	cmp	$256, %ebx
	jb	1b
	xor	%ebx, %ebx
2:	mov	%ebx, %edi
	lea	exc_stub_table(%rip), %rax
	mov	(%rax,%rbx,8), %rsi
	mov	$GATE_KERNEL, %edx
	call	set_gate
	inc	%ebx
	cmp	$32, %ebx
	jb	2b
	mov	$UPCALL_VECTOR, %edi
	lea	upcall_entry(%rip), %rsi
	mov	$GATE_KERNEL, %edx
	call	set_gate
	lidt	idt_ptr(%rip)
	pop	%rbx
	ret

/*
 * The event channel upcall (HVM_PARAM_CALLBACK_IRQ vector; no EOI, as on Xen): clear
 * upcall_pending, take evtchn_pending_sel, and for each selected word clear and count every
 * pending, unmasked port; again until pending_sel stays 0.
 */
upcall_entry:
	push	%rax
	push	%rcx
	push	%rdx
	push	%rsi
	push	%rdi
	push	%r8
	push	%r9
	incq	upcall_count(%rip)
	mov	vcpu_info_ptr(%rip), %rsi
	lea	shared_info(%rip), %rdi
1:	movb	$0, VI_UPCALL_PENDING(%rsi)
	xor	%eax, %eax
	xchg	%rax, VI_PENDING_SEL(%rsi)
	test	%rax, %rax
	jz	5f
2:	bsf	%rax, %rcx			/* word */
	btr	%rcx, %rax
	mov	SI_EVTCHN_MASK(%rdi,%rcx,8), %r9
	not	%r9
	mov	SI_EVTCHN_PENDING(%rdi,%rcx,8), %rdx
	and	%r9, %rdx
3:	test	%rdx, %rdx
	jz	4f
	bsf	%rdx, %r8			/* bit */
	btr	%r8, %rdx
	lock btr %r8, SI_EVTCHN_PENDING(%rdi,%rcx,8)
	jnc	3b
	mov	%rcx, %r9
	shl	$6, %r9
	add	%r8, %r9
	incl	port_counts(,%r9,4)
	jmp	3b
4:	test	%rax, %rax
	jnz	2b
	jmp	1b
5:	pop	%r9
	pop	%r8
	pop	%rdi
	pop	%rsi
	pop	%rdx
	pop	%rcx
	pop	%rax
	iretq

/* Exceptions 0-31: [rsp] = vector, [rsp+8] = error code (0 if none), then the CPU's frame. */
	.irp v, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,22,23,24,25,26,27,28,31
exc_\v:
	push	$0
	push	$\v
	jmp	exc_common
	.endr
	.irp v, 8,10,11,12,13,14,17,21,29,30
exc_\v:
	push	$\v
	jmp	exc_common
	.endr

exc_common:
	/* an expected #GP of a 2-byte wrmsr (hostile=bad-args): skip it */
	cmpq	$13, 0(%rsp)
	jne	1f
	cmpb	$0, expect_gp(%rip)
	je	1f
	push	%rax
	mov	24(%rsp), %rax			/* rip */
	cmpw	$0x300f, (%rax)			/* wrmsr */
	pop	%rax
	jne	1f
	movb	$0, expect_gp(%rip)
	incl	gp_count(%rip)
	addq	$2, 16(%rsp)
	add	$16, %rsp
	iretq
1:	/* the software KVM this project meets answers "int n" in ring 3 with #UD: take the ring-3
	   report (hostile=ring3) from the #UD at user_int80 instead */
	cmpq	$6, 0(%rsp)
	jne	2f
	cmpq	$(USER_CS | 3), 24(%rsp)
	jne	2f
	push	%rax
	lea	user_int80(%rip), %rax
	cmp	%rax, 24(%rsp)			/* rip */
	pop	%rax
	jne	2f
	mov	%rdi, %r12
	mov	%rsi, %r13
	mov	24(%rsp), %r14			/* cs */
	PRINTLN	"xentest: int $0x80 raised #UD (no int n emulation); report taken from the #UD"
	jmp	ring3_report
2:	mov	0(%rsp), %r12			/* vector */
	mov	8(%rsp), %r13			/* error code */
	mov	16(%rsp), %r14			/* rip */
	mov	24(%rsp), %r15			/* cs */
	call	enter_fatal
	lea	s_exc1(%rip), %rdi
	call	puts
	mov	%r12, %rdi
	call	puthex
	lea	s_exc2(%rip), %rdi
	call	puts
	mov	%r13, %rdi
	call	puthex
	lea	s_exc3(%rip), %rdi
	call	puts
	mov	%r15, %rdi
	call	puthex
	lea	s_exc4(%rip), %rdi
	call	puts
	mov	%r14, %rdi
	call	puthex
	mov	$10, %edi
	call	putc
	jmp	fail_tail

/* Vectors 32-255 (the upcall's and int $0x80's gates are replaced): 16-byte stubs at
   irq_stubs + 16 * (vector - 32) (.org fails the build if one does not fit). */
	.p2align 4
irq_stubs:
	.set	.Lvec, 32
	.rept	224
	push	$.Lvec
	jmp	irq_common
	.org	irq_stubs + 16 * (.Lvec - 31), 0xcc
	.set	.Lvec, .Lvec + 1
	.endr
irq_stubs_end:

irq_common:
	mov	0(%rsp), %r12			/* vector */
	mov	8(%rsp), %r13			/* rip */
	call	enter_fatal
	lea	s_irq1(%rip), %rdi
	call	puts
	mov	%r12, %rdi
	call	puthex
	lea	s_exc4(%rip), %rdi
	call	puts
	mov	%r13, %rdi
	call	puthex
	mov	$10, %edi
	call	putc
	jmp	fail_tail

/* ------------------------------------------------------------------------------------------ */
/* Command line.                                                                              */

/* copy_cmdline(): start info's NUL-terminated command line into cmdline_buf */
copy_cmdline:
	lea	cmdline_buf(%rip), %rdi
	movb	$0, (%rdi)
	mov	start_info_pa(%rip), %eax
	mov	START_INFO_CMDLINE(%rax), %rsi
	test	%rsi, %rsi
	jz	3f
	cmp	$MAPPED_LIMIT - CMDLINE_MAX - 1, %rsi
	jb	1f
	FAIL_WITH "cmdline_paddr not mapped", %rsi
1:	xor	%ecx, %ecx
2:	movzbl	(%rsi,%rcx), %eax
	mov	%al, (%rdi,%rcx)
	test	%eax, %eax
	jz	3f
	inc	%ecx
	cmp	$CMDLINE_MAX, %ecx
	jb	2b
	FAIL_WITH "command line longer than 255 bytes", %rcx
3:	ret

/* parse_cmdline(): sets mode (and bench_n) from the words of cmdline_buf */
parse_cmdline:
	push	%rbx
	push	%r12
	lea	cmdline_buf(%rip), %rbx
1:	movzbl	(%rbx), %eax			/* skip blanks */
	test	%eax, %eax
	jz	5f
	call	is_blank
	jnz	3f
	inc	%rbx
	jmp	1b
3:	mov	%rbx, %r12			/* a word: find its end */
4:	inc	%rbx
	movzbl	(%rbx), %eax
	test	%eax, %eax
	jz	6f
	call	is_blank
	jnz	4b
	movb	$0, (%rbx)
	inc	%rbx
6:	mov	%r12, %rdi
	call	handle_word
	jmp	1b
5:	pop	%r12
	pop	%rbx
	ret

/* is_blank(%eax character) -> ZF set if space, tab, CR or LF */
is_blank:
	cmp	$32, %eax
	je	1f
	cmp	$9, %eax
	je	1f
	cmp	$10, %eax
	je	1f
	cmp	$13, %eax
1:	ret

/* handle_word(%rdi NUL-terminated word) */
handle_word:
	push	%rbx
	mov	%rdi, %rbx
	lea	s_bench_prefix(%rip), %rsi
	call	skip_prefix
	test	%rax, %rax
	jz	1f
	mov	%rax, %rdi
	call	parse_decimal
	mov	%rax, bench_n(%rip)
	mov	$MODE_BENCH, %eax
	jmp	9f
1:	mov	%rbx, %rdi
	lea	s_triple_fault(%rip), %rsi
	call	streq
	mov	$MODE_TRIPLE_FAULT, %ecx
	test	%eax, %eax
	jnz	8f
	mov	%rbx, %rdi
	lea	s_ring3(%rip), %rsi
	call	streq
	mov	$MODE_RING3, %ecx
	test	%eax, %eax
	jnz	8f
	mov	%rbx, %rdi
	lea	s_bad_args(%rip), %rsi
	call	streq
	mov	$MODE_BAD_ARGS, %ecx
	test	%eax, %eax
	jnz	8f
	lea	s_unknown_word(%rip), %rdi
	jmp	word_fail
8:	mov	%ecx, %eax
9:	cmpl	$MODE_DEFAULT, mode(%rip)
	je	10f
	lea	s_second_mode(%rip), %rdi
	jmp	word_fail
10:	mov	%eax, mode(%rip)
	pop	%rbx
	ret

/* word_fail(%rdi message, %rbx word): "FAIL: <message>: <word>", never returns */
word_fail:
	mov	%rdi, %r12
	call	enter_fatal
	lea	s_fail(%rip), %rdi
	call	puts
	mov	%r12, %rdi
	call	puts
	lea	s_colon(%rip), %rdi
	call	puts
	mov	%rbx, %rdi
	call	putline
	jmp	fail_tail

/* skip_prefix(%rdi string, %rsi prefix) -> %rax = string after the prefix, or 0 */
skip_prefix:
1:	movzbl	(%rsi), %ecx
	test	%ecx, %ecx
	jz	2f
	cmpb	%cl, (%rdi)
	jne	3f
	inc	%rdi
	inc	%rsi
	jmp	1b
2:	mov	%rdi, %rax
	ret
3:	xor	%eax, %eax
	ret

/* streq(%rdi, %rsi) -> %rax 1 if equal */
streq:
1:	movzbl	(%rdi), %eax
	movzbl	(%rsi), %ecx
	cmp	%ecx, %eax
	jne	2f
	test	%eax, %eax
	jz	3f
	inc	%rdi
	inc	%rsi
	jmp	1b
2:	xor	%eax, %eax
	ret
3:	mov	$1, %eax
	ret

/* parse_decimal(%rdi digits; %rbx the word, for the message) -> %rax, below 2^32 */
parse_decimal:
	xor	%eax, %eax
	cmpb	$0, (%rdi)
	je	2f
1:	movzbl	(%rdi), %ecx
	test	%ecx, %ecx
	jz	3f
	sub	$48, %ecx
	cmp	$9, %ecx
	ja	2f
	imul	$10, %rax, %rax
	add	%rcx, %rax
	mov	%rax, %rdx
	shr	$32, %rdx
	jnz	2f
	inc	%rdi
	jmp	1b
2:	lea	s_bad_count(%rip), %rdi
	jmp	word_fail
3:	ret

print_banner:
	push	%rbx
	lea	s_banner1(%rip), %rdi
	call	puts
	mov	xen_version(%rip), %ebx
	mov	%ebx, %edi
	shr	$16, %edi
	call	putdec
	mov	$46, %edi			/* . */
	call	putc
	movzwl	%bx, %edi
	call	putdec
	lea	s_banner2(%rip), %rdi
	call	puts
	lea	cmdline_buf(%rip), %rdi
	call	puts
	lea	s_quote(%rip), %rdi
	call	putline
	pop	%rbx
	ret

/* ------------------------------------------------------------------------------------------ */
/* Output: a line buffer written with console_io at each newline (port 0xe9 until the
   hypercall page exists, or if console_io fails).                                             */

/* putc(%dil) */
putc:
	mov	line_len(%rip), %eax
	lea	line_buf(%rip), %rcx
	mov	%dil, (%rcx,%rax)
	inc	%eax
	mov	%eax, line_len(%rip)
	cmp	$10, %dil
	je	flush
	cmp	$LINE_MAX, %eax
	jae	flush
	ret

flush:
	mov	line_len(%rip), %esi
	test	%esi, %esi
	jz	3f
	cmpb	$0, hypercall_ready(%rip)
	je	1f
	mov	$CONSOLEIO_write, %edi
	lea	line_buf(%rip), %rdx
	call	HC(HYPERVISOR_console_io)
	test	%rax, %rax
	jns	2f
	mov	line_len(%rip), %esi
1:	lea	line_buf(%rip), %rcx
	xor	%edx, %edx
4:	movzbl	(%rcx,%rdx), %eax
	out	%al, $DEBUG_PORT
	inc	%edx
	cmp	%esi, %edx
	jb	4b
2:	movl	$0, line_len(%rip)
3:	ret

/* puts(%rdi NUL-terminated) */
puts:
	push	%rbx
	mov	%rdi, %rbx
1:	movzbl	(%rbx), %edi
	test	%edi, %edi
	jz	2f
	call	putc
	inc	%rbx
	jmp	1b
2:	pop	%rbx
	ret

/* putline(%rdi): the string and a newline */
putline:
	call	puts
	mov	$10, %edi
	jmp	putc

/* pass(%rdi): "PASS: <string>" */
pass:
	push	%rbx
	mov	%rdi, %rbx
	lea	s_pass(%rip), %rdi
	call	puts
	mov	%rbx, %rdi
	call	putline
	pop	%rbx
	ret

/* puthex(%rdi): lower-case hex, no leading zeros */
puthex:
	push	%rbx
	push	%r12
	push	%r13
	mov	%rdi, %rbx
	mov	$60, %r12d
	xor	%r13d, %r13d			/* a digit was printed */
1:	mov	%rbx, %rax
	mov	%r12d, %ecx
	shr	%cl, %rax
	and	$15, %eax
	test	%r12d, %r12d
	jz	2f
	test	%r13d, %r13d
	jnz	2f
	test	%eax, %eax
	jz	3f
2:	mov	$1, %r13d
	lea	hex_digits(%rip), %rcx
	movzbl	(%rcx,%rax), %edi
	call	putc
3:	sub	$4, %r12d
	jns	1b
	pop	%r13
	pop	%r12
	pop	%rbx
	ret

/* putdec(%rdi) */
putdec:
	push	%rbx
	sub	$32, %rsp
	lea	31(%rsp), %rbx
	movb	$0, (%rbx)
	mov	%rdi, %rax
	mov	$10, %ecx
1:	xor	%edx, %edx
	div	%rcx
	add	$48, %dl
	dec	%rbx
	mov	%dl, (%rbx)
	test	%rax, %rax
	jnz	1b
	mov	%rbx, %rdi
	call	puts
	add	$32, %rsp
	pop	%rbx
	ret

/* fail(%rdi what, %rsi value): "FAIL: what: got 0x<value>", FAILURE, crash. Never returns. */
fail:
	mov	%rdi, %r12
	mov	%rsi, %r13
	call	enter_fatal
	lea	s_fail(%rip), %rdi
	call	puts
	mov	%r12, %rdi
	call	puts
	lea	s_got(%rip), %rdi
	call	puts
	mov	%r13, %rdi
	call	puthex
	mov	$10, %edi
	call	putc
fail_tail:
	lea	s_failure(%rip), %rdi
	call	putline
	mov	$SHUTDOWN_crash, %edi
	call	shutdown
	jmp	halt_forever

/* enter_fatal(): interrupts off, once only (a fault while failing halts), end a partial line */
enter_fatal:
	cli
	cmpb	$0, in_fatal(%rip)
	jne	halt_forever
	movb	$1, in_fatal(%rip)
	cmpl	$0, line_len(%rip)
	je	1f
	mov	$10, %edi
	call	putc
1:	ret

/* shutdown(%edi reason): SCHEDOP_shutdown; if it returns, say so on port 0xe9 and halt */
shutdown:
	cmpb	$0, hypercall_ready(%rip)
	je	halt_forever
	mov	%edi, shutdown_arg(%rip)
	mov	$SCHEDOP_shutdown, %edi
	lea	shutdown_arg(%rip), %rsi
	call	HC(HYPERVISOR_sched_op)
	mov	%rax, %r13
	movb	$0, hypercall_ready(%rip)
	lea	s_shutdown_returned(%rip), %rdi
	call	puts
	mov	%r13, %rdi
	call	puthex
	mov	$10, %edi
	call	putc
halt_forever:
	cli
1:	hlt
	jmp	1b

/* ------------------------------------------------------------------------------------------ */
	.section .rodata
exc_stub_table:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad	exc_\v
	.endr
hex_digits:		.ascii	"0123456789abcdef"
s_pass:			.asciz	"PASS: "
s_fail:			.asciz	"FAIL: "
s_got:			.asciz	": got 0x"
s_colon:		.asciz	": "
s_failure:		.asciz	"Test result: FAILURE"
s_shutdown_returned:	.asciz	"FAIL: SCHEDOP_shutdown returned: got 0x"
s_exc1:			.asciz	"FAIL: exception 0x"
s_exc2:			.asciz	" error 0x"
s_exc3:			.asciz	" cs 0x"
s_exc4:			.asciz	" at rip: got 0x"
s_irq1:			.asciz	"FAIL: unexpected interrupt 0x"
s_banner1:		.asciz	"xentest: Xen "
s_banner2:		.asciz	", command line \""
s_quote:		.asciz	"\""
s_bench_prefix:		.asciz	"bench="
s_triple_fault:		.asciz	"hostile=triple-fault"
s_ring3:		.asciz	"hostile=ring3"
s_bad_args:		.asciz	"hostile=bad-args"
s_unknown_word:		.asciz	"unknown command line word"
s_second_mode:		.asciz	"a second mode on the command line"
s_bad_count:		.asciz	"bench count must be decimal, below 2^32"
s_timer_wait:		.asciz	"VIRQ_TIMER: no event from a singleshot timer in the past; upcalls seen"
s_ipi_wait:		.asciz	"IPI: no event after send; upcalls seen"
s_unmask_wait:		.asciz	"masked port: no event after EVTCHNOP_unmask; upcalls seen"
s_timer_unmask_wait:	.asciz	"poll wakeup: no event after unmasking the timer port; upcalls seen"
s_bind_wait:		.asciz	"interdomain: no event for B after bind_interdomain; upcalls seen"
s_a_wait:		.asciz	"interdomain: no event on A after send on B; upcalls seen"
s_b_wait:		.asciz	"interdomain: no event on B after send on A; upcalls seen"
s_settle_wait:		.asciz	"settle: no event from a singleshot timer 1 ms ahead; upcalls seen"
s_ring3_console:	.ascii	"FAIL: ring 3 console_io was not refused\n"
s_ring3_console_end:

/* ------------------------------------------------------------------------------------------ */
	.data
	.p2align 12
/* identity map of [0, 1 GiB): 2 MiB pages, present | rw | user (| PS) */
pml4:
	.quad	pdpt + 0x7
	.fill	511, 8, 0
pdpt:
	.quad	pd + 0x7
	.fill	511, 8, 0
pd:
	.set	.Lpage, 0
	.rept	512
	.quad	(.Lpage << 21) | 0x87
	.set	.Lpage, .Lpage + 1
	.endr

	.p2align 4
gdt:
	.quad	0
	.quad	0x00af9a000000ffff		/* 0x08 kernel code, 64-bit */
	.quad	0x00cf92000000ffff		/* 0x10 kernel data */
	.quad	0x00affa000000ffff		/* 0x18 user code, 64-bit, DPL 3 */
	.quad	0x00cff2000000ffff		/* 0x20 user data, DPL 3 */
	.quad	0, 0				/* 0x28 64-bit TSS, filled by run_ring3 */
gdt_end:

	.p2align 4
gdt_ptr:	.word	gdt_end - gdt - 1
		.quad	gdt
	.p2align 4
idt_ptr:	.word	256 * 16 - 1
		.quad	idt
	.p2align 4
zero_idt_ptr:	.word	0
		.quad	0
start_info_pa:	.long	0

/* ------------------------------------------------------------------------------------------ */
	.bss
	.p2align 12
hypercall_page:	.skip	4096
shared_info:	.skip	4096
vcpu_info_page:	.skip	4096
idt:		.skip	4096
port_counts:	.skip	4 * NR_PORTS
boot_stack:	.skip	16384
boot_stack_top:
ring0_stack:	.skip	8192
ring0_stack_top:
user_stack:	.skip	4096
user_stack_top:

	.p2align 6
tss:		.skip	128
hc_arg:		.skip	64
timer_arg:	.skip	16
status_arg:	.skip	24
poll_arg:	.skip	24
poll_ports:	.skip	4 * 136
send_arg:	.skip	4
port_arg:	.skip	4
shutdown_arg:	.skip	4
line_len:	.skip	4
line_buf:	.skip	LINE_MAX + 8
cmdline_buf:	.skip	CMDLINE_MAX + 1
	.p2align 3
vcpu_info_ptr:	.skip	8
upcall_count:	.skip	8
bench_n:	.skip	8
mode:		.skip	4
xen_version:	.skip	4
hypercall_msr:	.skip	4
#ifdef XEN_VMCALL
	.p2align 3
xen_hypercall_fn: .skip	8
#endif
gp_count:	.skip	4
timer_port:	.skip	4
ipi_port:	.skip	4
masked_port:	.skip	4
port_a:		.skip	4
port_b:		.skip	4
hypercall_ready: .skip	1
expect_gp:	.skip	1
in_fatal:	.skip	1
