# Pith: build, run, test, bench, debug.
#   make run          build and boot in QEMU, serial console on this terminal
#   make test         host unit tests + in-system tests + boot scenarios
#   make iso          GRUB rescue image for real hardware / other VMs
#   make debug        QEMU waiting for gdb, gdb attached with symbols
#   make CC=clang     build with clang instead of gcc
# Knobs: ACCEL=tcg|icount|kvm (default: auto), SMP=N, MEM=MiB, V=1 (echo commands)

ifeq ($(origin CC),default)
CC := gcc
endif
HOSTCC ?= $(if $(filter clang%,$(notdir $(CC))),clang,gcc)
LD      := ld
OBJCOPY := objcopy
NM      := nm
BUILD   := build
ACCEL   ?= auto
SMP     ?= 1
# make run's QEMU memory in MiB: the manifest's quotas (posix's 64) need more than 256.
MEM     ?= 512

ifneq ($(V),1)
Q := @
endif

# Kernel code: freestanding, no red zone (interrupts share the stack), no
# SIMD registers (user state lives there), frame pointers for backtraces.
KERNEL_CFLAGS := -std=c11 -ffreestanding -fno-builtin -fno-stack-protector \
	-fno-pic -fno-pie -mcmodel=kernel -mno-red-zone \
	-mno-mmx -mno-sse -mno-sse2 -mno-avx -mno-3dnow \
	-fno-omit-frame-pointer -fno-optimize-sibling-calls \
	-fno-asynchronous-unwind-tables -O2 -g \
	-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wno-unused-parameter \
	-Iinclude -Ikernel -Itests/kernel -Ibench/kernel -Ibench -MMD -MP
ifneq ($(filter clang%,$(notdir $(CC))),)
KERNEL_CFLAGS += --target=x86_64-unknown-none-elf
else
KERNEL_CFLAGS += -mgeneral-regs-only
endif
KERNEL_ASFLAGS := $(filter-out -Wstrict-prototypes -Wmissing-prototypes,$(KERNEL_CFLAGS)) -D__ASSEMBLER__
LDFLAGS_KERNEL := -nostdlib -static -z max-page-size=4096 -z noexecstack -T kernel/kernel.ld

KERNEL_SRCS := $(wildcard kernel/arch/x86_64/*.c kernel/arch/x86_64/*.S \
                          kernel/core/*.c kernel/object/*.c kernel/ext/*.c kernel/mm/*.c kernel/lib/*.c) \
               $(wildcard tests/kernel/*.c bench/kernel/*.c)
KOBJ := $(BUILD)/kobj
KERNEL_OBJS := $(patsubst %,$(KOBJ)/%.o,$(KERNEL_SRCS))

KERNEL_ELF := $(BUILD)/pith.elf
KERNEL_BIN := $(BUILD)/pith.bin
INIT_ELF   := $(BUILD)/user/init.elf
UTESTS_ELF := $(BUILD)/user/kernel-tests.elf
# The first module is init; make test boots the user-level test suite as init.
MODULES      := $(INIT_ELF) $(BUILD)/modules/testdata.bin
TEST_MODULES := $(UTESTS_ELF) $(BUILD)/modules/testdata.bin

.PHONY: all kernel run test iso debug bench fuzz smp-soak host-tests clean need-qemu need-iso need-test
all: kernel

kernel: $(KERNEL_BIN)

# Host tools: installed with apt-get when root, else one line naming the command.
# Then the pinned QEMU (docs/decisions/0022-pinned-qemu.md), unpacked under
# $(BUILD)/qemu once; without it, one line says why and Debian's QEMU runs.
PINNED_QEMU = tools/qemu-fetch.sh $(BUILD)/qemu || true
need-qemu:
	$(Q)tools/need.sh build
	$(Q)$(PINNED_QEMU)
need-iso:
	$(Q)tools/need.sh iso
need-test:
	$(Q)tools/need.sh test
	$(Q)$(PINNED_QEMU)

$(KOBJ)/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(KERNEL_CFLAGS) -c $< -o $@

# The IPC fast path is entered only from syscall_entry, which keeps nothing
# in the callee-saved registers: gcc may use them as scratch there, which
# saves its prologue's pushes (clang has no such option; it pushes).
ifeq ($(filter clang%,$(notdir $(CC))),)
$(KOBJ)/kernel/object/ipc_fast.c.o: KERNEL_CFLAGS += -fcall-used-rbx -fcall-used-r12 \
	-fcall-used-r13 -fcall-used-r14 -fcall-used-r15
endif

$(KOBJ)/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(KERNEL_ASFLAGS) -c $< -o $@

# Two links: the first finds where every function lives, the second adds
# the symbol table after the code, where its size moves nothing.  The
# final table must equal the one it was made from (checked below).
$(BUILD)/ksyms-empty.o: tools/mksyms.sh
	@mkdir -p $(BUILD)
	$(Q)tools/mksyms.sh $(NM) > $(BUILD)/ksyms-empty.S
	$(Q)$(CC) $(KERNEL_ASFLAGS) -c $(BUILD)/ksyms-empty.S -o $@

$(KERNEL_ELF): $(KERNEL_OBJS) $(BUILD)/ksyms-empty.o kernel/kernel.ld tools/mksyms.sh
	$(Q)$(LD) $(LDFLAGS_KERNEL) -o $(BUILD)/pith.pass1.elf $(KERNEL_OBJS) $(BUILD)/ksyms-empty.o
	$(Q)tools/mksyms.sh $(NM) $(BUILD)/pith.pass1.elf > $(BUILD)/ksyms.S
	$(Q)$(CC) $(KERNEL_ASFLAGS) -c $(BUILD)/ksyms.S -o $(BUILD)/ksyms.o
	$(Q)$(LD) $(LDFLAGS_KERNEL) -o $@ $(KERNEL_OBJS) $(BUILD)/ksyms.o
	$(Q)tools/mksyms.sh $(NM) $@ | cmp -s - $(BUILD)/ksyms.S || \
		{ echo "error: symbol table moved between links"; rm -f $@; exit 1; }
	@echo "  LD      $@"

$(KERNEL_BIN): $(KERNEL_ELF)
	$(Q)$(OBJCOPY) -O binary $< $@
	@echo "  OBJCOPY $@"

# A boot module with known contents: the in-system tests check every byte
# arrived.  (User programs arrive the same way once user level exists.)
$(BUILD)/modules/testdata.bin: tools/mktestdata.sh
	@mkdir -p $(dir $@)
	$(Q)tools/mktestdata.sh > $@

# ---- user programs -----------------------------------------------------
# >>> native C runtime (docs/runtime.md) >>>
# Native programs: static, linked with libpith (system-call stubs,
# start-up), lib/libc (Pith's C library layer: memory, threads, locks,
# output) and the listed members of musl's libc.a, nothing else from musl.
# Every link is checked for system calls that are not Pith's.
MUSL_LIBC := /usr/lib/x86_64-linux-musl/libc.a
MUSL_INC  := /usr/include/x86_64-linux-musl
MUSL_SUBSET := $(BUILD)/musl/libc-subset.a
USER_CFLAGS := -std=c11 -D_DEFAULT_SOURCE -nostdinc -isystem $(MUSL_INC) -ffreestanding -fno-builtin \
	-fno-stack-protector -fno-pic -fno-pie -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-Iinclude -Ilib/libpith -Ilib/libc -Ilib/elfload -Ikernel -Ibench -MMD -MP
ifneq ($(filter clang%,$(notdir $(CC))),)
USER_CFLAGS += --target=x86_64-unknown-none-elf
endif
UOBJ := $(BUILD)/uobj
LIBPITH_OBJS := $(patsubst %,$(UOBJ)/%.o,lib/libpith/crt0.S \
	$(wildcard lib/libpith/*.c lib/libc/*.c lib/elfload/*.c))
INIT_OBJS := $(patsubst %,$(UOBJ)/%.o,$(wildcard servers/init/*.c))
UTESTS_OBJS := $(patsubst %,$(UOBJ)/%.o,$(wildcard tests/user/*.c) tests/user/child-image.S)
# The ELF-loader test's child program: no runtime, carried in the test image.
CHILD_ELF  := $(BUILD)/user/child.elf
BENCH_OBJS := $(patsubst %,$(UOBJ)/%.o,$(wildcard bench/user/*.c))
FUZZ_OBJS  := $(patsubst %,$(UOBJ)/%.o,$(wildcard tests/fuzz/*.c))
FUZZ_ELF   := $(BUILD)/user/fuzz.elf
BENCH_ELF  := $(BUILD)/user/bench.elf

.PHONY: need-musl
need-musl:
	$(Q)tools/need.sh musl

$(MUSL_SUBSET): lib/libc/musl-members.txt tools/musl-subset.sh | need-musl
	@mkdir -p $(dir $@)
	$(Q)tools/musl-subset.sh $< $(MUSL_LIBC) $@

$(UOBJ)/%.c.o: %.c | need-musl
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(USER_CFLAGS) -c $< -o $@

$(UOBJ)/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(USER_CFLAGS) $(EXTRA_ASFLAGS) -D__ASSEMBLER__ -c $< -o $@

$(BUILD)/user/%.elf: lib/libpith/user.ld $(LIBPITH_OBJS) $(MUSL_SUBSET) tools/check-syscalls.sh
	@mkdir -p $(dir $@)
	$(Q)$(LD) -nostdlib -static -z max-page-size=4096 -z noexecstack -T lib/libpith/user.ld \
		-o $@ $(filter %.o,$^) $(MUSL_SUBSET)
	$(Q)tools/check-syscalls.sh $@ $(MUSL_SUBSET) || { rm -f $@; exit 1; }
	@echo "  LD      $@"

$(CHILD_ELF): $(UOBJ)/tests/user/child/main.c.o lib/libpith/user.ld $(MUSL_SUBSET) tools/check-syscalls.sh
	@mkdir -p $(dir $@)
	$(Q)$(LD) -nostdlib -static -z max-page-size=4096 -z noexecstack -T lib/libpith/user.ld -o $@ $<
	$(Q)tools/check-syscalls.sh $@ $(MUSL_SUBSET) || { rm -f $@; exit 1; }
	@echo "  LD      $@"
$(UOBJ)/tests/user/child-image.S.o: $(CHILD_ELF)
$(UOBJ)/tests/user/child-image.S.o: EXTRA_ASFLAGS = -DCHILD_ELF='"$(CHILD_ELF)"'
# The host test of the ELF parser builds lib/ code, not only kernel code.
$(BUILD)/host/test_elfload: lib/elfload/parse.c lib/elfload/elfload.h tests/user/elf_cases.h
# The ext2 library (lib/ext2/) on the host, against images made by mke2fs.
$(BUILD)/host/test_ext2: $(wildcard lib/ext2/*.c lib/ext2/*.h)

-include $(UOBJ)/tests/user/child/main.c.d

$(INIT_ELF): $(INIT_OBJS)
$(UTESTS_ELF): $(UTESTS_OBJS)
$(BENCH_ELF): $(BENCH_OBJS)
$(FUZZ_ELF): $(FUZZ_OBJS)
# <<< native C runtime <<<

# >>> base system: init's manifest, names and processes; console; shell (docs/manifest.md) >>>
# make run boots init with the manifest and the programs it names; each
# program is a folder of servers/ linked with the generated code it uses.
BASE_IDL   := servers/names/names.idl servers/console/console.idl servers/init/procmgr.idl
BASE_HDRS  := $(patsubst %,$(BUILD)/idl/%.h,names console procmgr)
# (The interface-definitions block below defines IDL_OBJ; these are its results, spelled out.)
$(foreach n,names console procmgr kv,$(eval BASE_IDL_OBJ_$(n) := $(patsubst %,$(UOBJ)/$(BUILD)/idl/%.c.o,$(n)_client $(n)_server)))
vpath %.idl servers/names servers/console servers/init
USER_CFLAGS += -Iservers/names -Iservers/init -Iservers/console
RESOLVER_OBJS := $(UOBJ)/lib/libpith/idl.c.o $(BASE_IDL_OBJ_names) $(UOBJ)/servers/names/resolver.c.o
CONSOLE_ELF := $(BUILD)/user/console.elf
SHELL_ELF   := $(BUILD)/user/shell.elf
KVD_ELF     := $(BUILD)/user/kvd.elf
KVTEST_ELF  := $(BUILD)/user/kvtest.elf
CRASHER_ELF := $(BUILD)/user/crasher.elf
WRITER_ELF  := $(BUILD)/user/writer.elf
MANIFEST    := $(BUILD)/modules/manifest
BASE_PROGRAMS := $(CONSOLE_ELF) $(SHELL_ELF) $(KVD_ELF)
MODULES += $(MANIFEST) $(BASE_PROGRAMS)
BASE_OBJS := $(patsubst %,$(UOBJ)/%.o,$(wildcard servers/console/*.c servers/shell/*.c servers/kvd/*.c \
	tests/system/kvtest/*.c tests/system/crasher/*.c tests/system/writer/*.c)) $(RESOLVER_OBJS) $(BASE_IDL_OBJ_console) $(BASE_IDL_OBJ_procmgr) $(BASE_IDL_OBJ_kv)

$(INIT_ELF): $(UOBJ)/lib/libpith/idl.c.o $(BASE_IDL_OBJ_names) $(BASE_IDL_OBJ_procmgr)
$(CONSOLE_ELF): $(patsubst %,$(UOBJ)/%.o,$(wildcard servers/console/*.c)) $(BASE_IDL_OBJ_console) $(RESOLVER_OBJS)
$(SHELL_ELF): $(patsubst %,$(UOBJ)/%.o,$(wildcard servers/shell/*.c)) $(BASE_IDL_OBJ_console) \
	$(BASE_IDL_OBJ_procmgr) $(RESOLVER_OBJS)
$(KVD_ELF): $(patsubst %,$(UOBJ)/%.o,$(wildcard servers/kvd/*.c)) $(BASE_IDL_OBJ_kv) $(patsubst %,$(UOBJ)/%.o,$(wildcard servers/kv/*.c)) $(RESOLVER_OBJS)
$(KVTEST_ELF): $(patsubst %,$(UOBJ)/%.o,$(wildcard tests/system/kvtest/*.c)) $(BASE_IDL_OBJ_kv) \
	$(BASE_IDL_OBJ_procmgr) $(RESOLVER_OBJS)
$(CRASHER_ELF): $(patsubst %,$(UOBJ)/%.o,$(wildcard tests/system/crasher/*.c)) $(RESOLVER_OBJS)
$(WRITER_ELF): $(patsubst %,$(UOBJ)/%.o,$(wildcard tests/system/writer/*.c)) $(BASE_IDL_OBJ_console) \
	$(RESOLVER_OBJS)
$(INIT_OBJS) $(BASE_OBJS): | $(BASE_HDRS) $(BUILD)/idl/kv.h
# The base-system scenarios boot these test programs too.
test: $(KVTEST_ELF) $(CRASHER_ELF) $(WRITER_ELF)
# make bench measures a server's restart with the crashing one.
bench: $(INIT_ELF) $(CRASHER_ELF)

# Process trees: one program as a tree three deep (tests/system/treetest).
TREETEST_ELF := $(BUILD)/user/treetest.elf
BASE_OBJS += $(patsubst %,$(UOBJ)/%.o,$(wildcard tests/system/treetest/*.c))
$(TREETEST_ELF): $(patsubst %,$(UOBJ)/%.o,$(wildcard tests/system/treetest/*.c)) $(BASE_IDL_OBJ_procmgr) \
	$(RESOLVER_OBJS)
test: $(TREETEST_ELF)

$(MANIFEST): servers/init/boot.manifest
	@mkdir -p $(dir $@)
	$(Q)cp $< $@

# The manifest parser on the host, under ASan and UBSan.
$(BUILD)/host/test_manifest: servers/init/manifest.c servers/init/manifest.h
-include $(patsubst %.o,%.d,$(BASE_OBJS))

# The shell's bench calls /svc/kv; its test command starts the self-test, a boot module of make run.
SELFTEST_ELF := $(BUILD)/user/selftest.elf
SELFTEST_OBJS := $(patsubst %,$(UOBJ)/%.o,$(wildcard servers/selftest/*.c))
MODULES += $(SELFTEST_ELF)
$(SHELL_ELF): $(BASE_IDL_OBJ_kv)
$(SELFTEST_ELF): $(SELFTEST_OBJS) $(BASE_IDL_OBJ_console) $(BASE_IDL_OBJ_kv) $(RESOLVER_OBJS)
$(SELFTEST_OBJS): | $(BASE_HDRS) $(BUILD)/idl/kv.h
-include $(patsubst %.o,%.d,$(SELFTEST_OBJS))
# <<< base system <<<

# >>> storage: PCI and virtio-blk (servers/pci, servers/blk; docs/pci.md, docs/blk.md) >>>
# The PCI bus server and the virtio-blk driver, boot modules of make run;
# blktest is the block protocol's in-system test (tests/system/storage.sh).
STORAGE_IDL := servers/pci/pci.idl servers/blk/blk.idl
vpath %.idl servers/pci servers/blk
USER_CFLAGS += -Iservers/pci -Iservers/blk -Ilib/virtio
VIRTIO_OBJ := $(UOBJ)/lib/virtio/virtio.c.o
PCI_ELF     := $(BUILD)/user/pci.elf
BLK_ELF     := $(BUILD)/user/blk.elf
BLKTEST_ELF := $(BUILD)/user/blktest.elf
# (IDL_OBJ is defined further down; these are its results, spelled out.)
PCI_IDL_OBJ := $(patsubst %,$(UOBJ)/$(BUILD)/idl/%.c.o,pci_client pci_server)
BLK_IDL_OBJ := $(patsubst %,$(UOBJ)/$(BUILD)/idl/%.c.o,blk_client blk_server)
STORAGE_OBJS := $(patsubst %,$(UOBJ)/%.o,$(wildcard servers/pci/*.c servers/blk/*.c lib/virtio/*.c tests/system/blktest/*.c))
$(STORAGE_OBJS): | $(BUILD)/idl/pci.h $(BUILD)/idl/blk.h $(BASE_HDRS)
$(PCI_ELF): $(patsubst %,$(UOBJ)/%.o,$(wildcard servers/pci/*.c)) $(PCI_IDL_OBJ) $(RESOLVER_OBJS)
$(BLK_ELF): $(patsubst %,$(UOBJ)/%.o,$(wildcard servers/blk/*.c)) $(VIRTIO_OBJ) $(PCI_IDL_OBJ) $(BLK_IDL_OBJ) \
	$(RESOLVER_OBJS)
$(BLKTEST_ELF): $(patsubst %,$(UOBJ)/%.o,$(wildcard tests/system/blktest/*.c)) $(PCI_IDL_OBJ) \
	$(BLK_IDL_OBJ) $(BASE_IDL_OBJ_procmgr) $(RESOLVER_OBJS)
MODULES += $(PCI_ELF) $(BLK_ELF)
test: $(BLKTEST_ELF)
-include $(STORAGE_OBJS:.o=.d)
# <<< storage: PCI and virtio-blk <<<

# >>> storage: the file server (servers/fs/, lib/ext2/, docs/storage.md) >>>
# fs serves the ext2 volume on /dev/blk0 as /fs; the shell's file commands
# call it.  make run boots with build/disk.img, made once from disk/ by
# mke2fs -d and kept across runs (make disk-reset makes it anew).
vpath %.idl servers/fs
USER_CFLAGS += -Ilib/ext2
FS_ELF   := $(BUILD)/user/fs.elf
EXT2_OBJS := $(patsubst %,$(UOBJ)/%.o,$(wildcard lib/ext2/*.c))
FS_OBJS  := $(patsubst %,$(UOBJ)/%.o,$(wildcard servers/fs/*.c)) $(EXT2_OBJS)
MODULES  += $(FS_ELF)
FS_IDL_OBJ  := $(patsubst %,$(UOBJ)/$(BUILD)/idl/%.c.o,fs_client fs_server)
$(FS_ELF): $(FS_OBJS) $(FS_IDL_OBJ) $(BLK_IDL_OBJ) $(RESOLVER_OBJS)
$(SHELL_ELF): $(FS_IDL_OBJ)
$(FS_OBJS) $(patsubst %,$(UOBJ)/%.o,$(wildcard servers/shell/*.c)): | $(BUILD)/idl/fs.h $(BUILD)/idl/blk.h $(BASE_HDRS)
-include $(FS_OBJS:.o=.d)
DISK_IMG := $(BUILD)/disk.img
DISK_MIB ?= 32
.PHONY: need-e2fs disk-reset
need-e2fs:
	$(Q)tools/need.sh e2fs
$(DISK_IMG): | need-e2fs
	$(Q)tools/mkdisk.sh --busybox disk $@ $(DISK_MIB)
disk-reset: need-e2fs
	$(Q)rm -f $(DISK_IMG)
	$(Q)tools/mkdisk.sh --busybox disk $(DISK_IMG) $(DISK_MIB)
# Writes files without end while the storage scenarios kill the servers under it.
FSWRITER_ELF := $(BUILD)/user/fswriter.elf
FSWRITER_OBJS := $(patsubst %,$(UOBJ)/%.o,$(wildcard tests/system/fswriter/*.c))
$(FSWRITER_ELF): $(FSWRITER_OBJS) $(FS_IDL_OBJ) $(RESOLVER_OBJS)
$(FSWRITER_OBJS): | $(BUILD)/idl/fs.h $(BASE_HDRS)
-include $(FSWRITER_OBJS:.o=.d)
# The file protocol through every message and error.
FSTEST_ELF := $(BUILD)/user/fstest.elf
FSTEST_OBJS := $(patsubst %,$(UOBJ)/%.o,$(wildcard tests/system/fstest/*.c))
$(FSTEST_ELF): $(FSTEST_OBJS) $(FS_IDL_OBJ) $(RESOLVER_OBJS)
$(FSTEST_OBJS): | $(BUILD)/idl/fs.h $(BASE_HDRS)
-include $(FSTEST_OBJS:.o=.d)
test: $(FSWRITER_ELF) $(FSTEST_ELF) $(DISK_IMG)
# The file-system figures of make bench (bench/fs/, tools/bench.sh).
FSBENCH_ELF := $(BUILD)/user/fsbench.elf
FSBENCH_OBJS := $(patsubst %,$(UOBJ)/%.o,$(wildcard bench/fs/*.c))
$(FSBENCH_ELF): $(FSBENCH_OBJS) $(FS_IDL_OBJ) $(RESOLVER_OBJS)
$(FSBENCH_OBJS): | $(BUILD)/idl/fs.h $(BASE_HDRS)
-include $(FSBENCH_OBJS:.o=.d)
bench: $(FSBENCH_ELF) $(FS_ELF) $(PCI_ELF) $(BLK_ELF) $(INIT_ELF) $(MEMD_ELF) need-e2fs
# The kill scenario again and again: make fs-soak RUNS=10 KILLS=10 (100 kills).
.PHONY: fs-soak
fs-soak: need-e2fs need-qemu $(KERNEL_BIN) $(MODULES) $(FSWRITER_ELF)
	$(Q)BUILD=$(BUILD) RUNS=$(or $(RUNS),10) KILLS=$(or $(KILLS),10) tools/fs-soak.sh
# <<< storage: the file server <<<

# >>> the POSIX personality (servers/posix/, docs/posix.md) >>>
# posix runs static Linux executables from /fs: their system calls reach it
# as fault messages.  tests/posix/ holds the Linux test programs, built on
# the host with musl-gcc and put on a test disk (tests/system/posix.sh).
vpath %.idl servers/posix
POSIX_ELF  := $(BUILD)/user/posix.elf
POSIX_OBJS := $(patsubst %,$(UOBJ)/%.o,$(wildcard servers/posix/*.c))
POSIX_IDL_OBJ := $(patsubst %,$(UOBJ)/$(BUILD)/idl/%.c.o,posix_client posix_server)
MODULES += $(POSIX_ELF)
$(POSIX_ELF): $(POSIX_OBJS) $(POSIX_IDL_OBJ) $(FS_IDL_OBJ) $(BASE_IDL_OBJ_console) $(RESOLVER_OBJS)
$(SHELL_ELF): $(POSIX_IDL_OBJ)
$(POSIX_OBJS) $(patsubst %,$(UOBJ)/%.o,$(wildcard servers/shell/*.c)): | $(BUILD)/idl/posix.h $(BUILD)/idl/fs.h $(BASE_HDRS)
-include $(POSIX_OBJS:.o=.d)
# The vDSO of Linux processes (servers/posix/vdso/, decision 0023): a shared
# object the personality carries and maps into each, so it must need no
# relocating (checked); the debug symbols stay in vdso.so.dbg.
VDSO_SO := $(BUILD)/vdso/vdso.so
$(VDSO_SO): servers/posix/vdso/vdso.c servers/posix/vdso/vdso.h servers/posix/vdso/vdso.ld include/pith/time.h
	@mkdir -p $(dir $@)
	$(Q)$(CC) -std=c11 -O2 -g -fPIC -ffreestanding -fno-builtin -fno-stack-protector -fno-asynchronous-unwind-tables \
		-Wall -Wextra -Werror -Iinclude -nostdlib -shared -Wl,-T,servers/posix/vdso/vdso.ld -Wl,--hash-style=both \
		-Wl,-soname=linux-vdso.so.1 -Wl,--build-id=none -Wl,-z,noexecstack -Wl,-z,max-page-size=4096 -o $@.dbg $<
	$(Q)! readelf -rW $@.dbg | grep -q 'Relocation section' || { echo "vdso: $@ has dynamic relocations" >&2; exit 1; }
	$(Q)$(OBJCOPY) -S $@.dbg $@
	@echo "  VDSO    $@"
$(UOBJ)/servers/posix/vdso.c.o: $(VDSO_SO)
$(UOBJ)/servers/posix/vdso.c.o: USER_CFLAGS += -DVDSO_IMAGE='"$(VDSO_SO)"'
# The Linux test programs, static, built on the host with musl-gcc.
POSIX_TESTS := $(patsubst tests/posix/%.c,$(BUILD)/posix/%,$(wildcard tests/posix/*.c))
.PHONY: need-musl-gcc posix-tests
need-musl-gcc:
	$(Q)tools/need.sh posix
$(BUILD)/posix/%: tests/posix/%.c | need-musl-gcc
	@mkdir -p $(dir $@)
	$(Q)musl-gcc -static -O1 -Wall -Wextra -Werror -o $@ $<
	@echo "  MUSLCC  $@"
# make bench's pith.posix_getpid: a Linux program too (tools/bench.sh).
$(BUILD)/posix/bench-getpid: bench/posix/getpid.c | need-musl-gcc
	@mkdir -p $(dir $@)
	$(Q)musl-gcc -static -O2 -Wall -Wextra -Werror -o $@ $<
	@echo "  MUSLCC  $@"
# make bench's pith.posix_clock_gettime and its _server: a Linux program too (tools/bench.sh).
$(BUILD)/posix/bench-clock: bench/posix/clock.c | need-musl-gcc
	@mkdir -p $(dir $@)
	$(Q)musl-gcc -static -O2 -Wall -Wextra -Werror -o $@ $<
	@echo "  MUSLCC  $@"
# make bench's pith.posix_* and linux.posix_*: one program on both sides (bench/linux/run.sh builds its own).
$(BUILD)/posix/bench-posix: bench/posix/posixbench.c | need-musl-gcc
	@mkdir -p $(dir $@)
	$(Q)musl-gcc -static -O2 -Wall -Wextra -Werror -o $@ $<
	@echo "  MUSLCC  $@"
# Programs the personality must refuse: too big for a process; and a dynamic one.
$(BUILD)/posix/refused/toobig: tests/posix/refused/toobig.c | need-musl-gcc
	@mkdir -p $(dir $@)
	$(Q)musl-gcc -static -O1 -o $@ $<
$(BUILD)/posix/refused/dynamic: tests/posix/hello.c
	@mkdir -p $(dir $@)
	$(Q)$(HOSTCC) -O1 -o $@ $<
posix-tests: $(POSIX_TESTS) $(BUILD)/posix/bench-getpid $(BUILD)/posix/bench-clock $(BUILD)/posix/bench-posix $(BUILD)/posix/refused/toobig $(BUILD)/posix/refused/dynamic
test: posix-tests
bench: posix-tests $(POSIX_ELF) $(SHELL_ELF) $(CONSOLE_ELF) $(KVD_ELF) $(MANIFEST)
# <<< the POSIX personality <<<

# >>> busybox's own testsuite (tests/system/busybox.sh, docs/testing.md) >>>
# The testsuite/ of busybox 1.35.0 and busybox-static's build configuration,
# from Debian's archive, sha256 pinned (tools/busybox-tests-fetch.sh).
# make test runs a subset of its applet groups on the host and under Pith;
# make busybox-tests runs every group (BUSYBOX_GROUPS="sed tar": those).
BUSYBOX_TESTS_DIR := $(BUILD)/busybox-tests
$(BUSYBOX_TESTS_DIR)/.unpacked: tools/busybox-tests-fetch.sh
	$(Q)tools/need.sh busybox-tests
	$(Q)tools/busybox-tests-fetch.sh $(BUSYBOX_TESTS_DIR)
	$(Q)touch $@
test: $(BUSYBOX_TESTS_DIR)/.unpacked
.PHONY: busybox-tests
busybox-tests: need-test $(BUSYBOX_TESTS_DIR)/.unpacked
	$(Q)$(MAKE) --no-print-directory $(KERNEL_BIN) $(MODULES)
	$(Q)BUILD=$(BUILD) TEST_ONLY=busybox BUSYBOX_GROUPS="$(or $(BUSYBOX_GROUPS),all)" tools/run-tests.sh
# <<< busybox's own testsuite <<<

# >>> the memory manager at boot (servers/memd/, docs/memory.md) >>>
# init starts memd before anything in the manifest: every boot of init carries it.
MEMD_ELF := $(BUILD)/user/memd.elf
MODULES += $(MEMD_ELF)
# <<< the memory manager at boot <<<

# ---- running ----------------------------------------------------------
RUN := tools/qemu-run.sh --accel $(ACCEL) --smp $(SMP) --mem $(MEM)
# make run LOGIN=ash: the manifest with args=login=ash on the shell's line, so
# busybox ash is the login shell on the console (docs/manifest.md).
ifneq ($(LOGIN),)
LOGIN_MANIFEST := $(BUILD)/login-$(LOGIN)/manifest
MODULES := $(filter-out $(MANIFEST),$(MODULES)) $(LOGIN_MANIFEST)
$(LOGIN_MANIFEST): servers/init/boot.manifest
	@mkdir -p $(dir $@)
	$(Q)sed -E 's/^(shell[[:space:]].*)$$/\1 args=login=$(LOGIN)/' $< > $@
endif
MODARGS := $(foreach m,$(MODULES),--module $(m))

run: need-qemu $(KERNEL_BIN) $(MODULES) $(DISK_IMG)
	$(Q)$(RUN) --interactive --kernel $(KERNEL_BIN) $(MODARGS) --disk $(DISK_IMG)

debug: need-qemu $(KERNEL_BIN) $(MODULES) $(DISK_IMG)
	$(Q)DISK=$(DISK_IMG) tools/debug.sh $(KERNEL_ELF) $(KERNEL_BIN) $(MODULES)

# The system-call fuzzer on its own: make fuzz N=calls SEED=seed (0: from the clock).
N ?= 1000000
SEED ?= 0
fuzz: need-qemu $(KERNEL_BIN) $(FUZZ_ELF)
	$(Q)tools/qemu-run.sh --accel $(ACCEL) --timeout 3600 --kernel $(KERNEL_BIN) --module $(FUZZ_ELF) \
		--append "fuzz=$(N) seed=$(SEED)" --debugcon $(BUILD)/fuzz.log --serial /dev/null; \
		status=$$?; grep -a '^fuzz' $(BUILD)/fuzz.log; exit $$status

# The multi-CPU groups booted RUNS times, counting the runs that pass:
# make smp-soak RUNS=20 [SMP=2] [JOBS=2] [SOAK_GROUPS="kernel fuzz"] (tools/smp-soak.sh).
RUNS ?= 20
JOBS ?= 1
smp-soak: need-qemu $(KERNEL_BIN) $(TEST_MODULES) $(FUZZ_ELF)
	$(Q)RUNS=$(RUNS) SMP=$(if $(filter 1,$(SMP)),2,$(SMP)) JOBS=$(JOBS) BUILD=$(BUILD) tools/smp-soak.sh

# ---- the GRUB image ---------------------------------------------------
ISO := $(BUILD)/pith.iso
iso: need-iso $(ISO)

$(BUILD)/pith.iso: $(KERNEL_BIN) $(MODULES) tools/mkiso.sh | need-iso
	$(Q)tools/mkiso.sh $@ "" $(KERNEL_BIN) $(MODULES)
$(BUILD)/pith-test.iso: $(KERNEL_BIN) $(TEST_MODULES) tools/mkiso.sh | need-iso
	$(Q)tools/mkiso.sh $@ "test" $(KERNEL_BIN) $(TEST_MODULES)

# ---- tests -------------------------------------------------------------
HOST_CFLAGS := -std=c11 -g -O1 -Wall -Wextra -Werror -fsanitize=address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer -DPITH_HOST_TEST \
	-Iinclude -Ikernel -Itests/host
HOST_TESTS := $(patsubst tests/host/%.c,$(BUILD)/host/%,$(wildcard tests/host/test_*.c))

# Each host test links the kernel sources it names in its first line: "// uses: a.c b.c"
$(BUILD)/host/%: tests/host/%.c tests/host/harness.h $(wildcard kernel/*/*.c kernel/*/*/*.c)
	@mkdir -p $(dir $@)
	$(Q)$(HOSTCC) $(HOST_CFLAGS) $< $$(sed -n '1s,^// uses: ,,p' $<) -o $@

host-tests: $(HOST_TESTS)

test: need-test
	$(Q)$(MAKE) --no-print-directory $(KERNEL_BIN) $(MODULES) $(TEST_MODULES) $(FUZZ_ELF) $(HOST_TESTS) $(BUILD)/pith-test.iso
	$(Q)ACCEL=$(ACCEL) BUILD=$(BUILD) tools/run-tests.sh

# ---- interface definitions (tools/idlc, docs/idl.md) --------------------
# idlc runs on the host; each .idl file becomes build/idl/NAME.h,
# NAME_client.c and NAME_server.c, compiled like any user code and linked,
# with libpith's idl.c, into the programs that use them.
IDLC      := $(BUILD)/tools/idlc
IDL_FILES := servers/kv/kv.idl tests/user/probe.idl
IDL_NAMES := $(basename $(notdir $(IDL_FILES)))
IDL_HDRS  := $(patsubst %,$(BUILD)/idl/%.h,$(IDL_NAMES))
IDL_OBJ   = $(patsubst %,$(UOBJ)/$(BUILD)/idl/%.c.o,$(1)_client $(1)_server)
LIBIDL_OBJS := $(UOBJ)/lib/libpith/idl.c.o
KV_OBJS   := $(LIBIDL_OBJS) $(call IDL_OBJ,kv) $(patsubst %,$(UOBJ)/%.o,$(wildcard servers/kv/*.c))
USER_CFLAGS += -I$(BUILD)/idl -Iservers/kv
vpath %.idl $(sort $(dir $(IDL_FILES)))

$(IDLC): $(wildcard tools/idlc/*.c tools/idlc/*.h)
	@mkdir -p $(dir $@)
	$(Q)$(HOSTCC) -std=c11 -O2 -g -Wall -Wextra -Werror -o $@ $(filter %.c,$^)
	@echo "  HOSTCC  $@"

$(BUILD)/idl/%.h $(BUILD)/idl/%_client.c $(BUILD)/idl/%_server.c: %.idl $(IDLC)
	@mkdir -p $(dir $@)
	$(Q)$(IDLC) $< $(BUILD)/idl/$*
	@echo "  IDLC    $<"

# Generated headers exist before anything that may include them is compiled.
$(UTESTS_OBJS) $(BENCH_OBJS) $(KV_OBJS) $(UOBJ)/$(BUILD)/idl/probe_client.c.o \
	$(UOBJ)/$(BUILD)/idl/probe_server.c.o: | $(IDL_HDRS)
$(UTESTS_ELF): $(KV_OBJS) $(call IDL_OBJ,probe)
$(BENCH_ELF): $(KV_OBJS)
$(BUILD)/host/test_idlc: $(wildcard tools/idlc/*.c tools/idlc/*.h) $(IDLC)
-include $(patsubst %.o,%.d,$(KV_OBJS) $(call IDL_OBJ,probe))
# ---- end of interface definitions ---------------------------------------

# ---- memory manager (servers/mem/, docs/memory.md) ----------------------
# The manager's code and its generated protocol code, linked into the user
# tests and the benchmarks, which start it as a thread.
MEM_OBJS := $(call IDL_OBJ,mem) $(call IDL_OBJ,mapper) $(patsubst %,$(UOBJ)/%.o,$(wildcard servers/mem/*.c))
USER_CFLAGS += -Iservers/mem
vpath %.idl servers/mem
$(UTESTS_OBJS) $(BENCH_OBJS) $(MEM_OBJS): | $(BUILD)/idl/mem.h $(BUILD)/idl/mapper.h
$(UTESTS_ELF) $(BENCH_ELF): $(MEM_OBJS)
-include $(MEM_OBJS:.o=.d)
# ---- end of memory manager ----------------------------------------------

# ---- exokernel bindings (lib/exopage/, docs/exokernel.md) ---------------
# A process's own paging over frames the memory manager binds to it,
# linked into the user tests and the benchmarks.
EXOPAGE_OBJS := $(patsubst %,$(UOBJ)/%.o,$(wildcard lib/exopage/*.c))
USER_CFLAGS += -Ilib/exopage
$(EXOPAGE_OBJS): | $(BUILD)/idl/mem.h
$(UTESTS_ELF) $(BENCH_ELF): $(EXOPAGE_OBJS)
-include $(EXOPAGE_OBJS:.o=.d)
# A flat file store in a partition the block driver binds, linked into blktest.
EXOFS_OBJS := $(patsubst %,$(UOBJ)/%.o,$(wildcard lib/exofs/*.c))
USER_CFLAGS += -Ilib/exofs
$(EXOFS_OBJS): | $(BUILD)/idl/blk.h
# blktest also pages itself over a partition: a memory manager of its own and exopage.
$(BLKTEST_ELF): $(EXOFS_OBJS) $(EXOPAGE_OBJS) $(MEM_OBJS)
$(patsubst %,$(UOBJ)/%.o,$(wildcard tests/system/blktest/*.c)): | $(BUILD)/idl/mem.h $(BUILD)/idl/mapper.h
-include $(EXOFS_OBJS:.o=.d)
# ---- end of exokernel bindings ------------------------------------------

# >>> the memory manager at boot: memd is the manager's code in a process of its own; init is its owner >>>
$(MEMD_ELF): $(patsubst %,$(UOBJ)/%.o,$(wildcard servers/memd/*.c)) $(MEM_OBJS) $(RESOLVER_OBJS)
$(INIT_ELF): $(UOBJ)/$(BUILD)/idl/mem_client.c.o
$(INIT_OBJS) $(patsubst %,$(UOBJ)/%.o,$(wildcard servers/memd/*.c) servers/shell/commands.c): | $(BUILD)/idl/mem.h $(BUILD)/idl/mapper.h
test bench: $(MEMD_ELF)
# A program paged by the manager (manifest: pages=), for the base-system scenarios.
ANONTEST_ELF := $(BUILD)/user/anontest.elf
$(ANONTEST_ELF): $(patsubst %,$(UOBJ)/%.o,$(wildcard tests/system/anontest/*.c)) $(call IDL_OBJ,mem) $(RESOLVER_OBJS)
$(patsubst %,$(UOBJ)/%.o,$(wildcard tests/system/anontest/*.c)): | $(BUILD)/idl/mem.h $(BASE_HDRS)
test: $(ANONTEST_ELF)
# A program started with its image mapped lazily (manifest: lazy); init serves the boot modules as a mapper.
LAZYTEST_ELF := $(BUILD)/user/lazytest.elf
$(LAZYTEST_ELF): $(patsubst %,$(UOBJ)/%.o,$(wildcard tests/system/lazytest/*.c)) $(call IDL_OBJ,mem) $(BASE_IDL_OBJ_kv) \
	$(RESOLVER_OBJS)
$(patsubst %,$(UOBJ)/%.o,$(wildcard tests/system/lazytest/*.c)): | $(BUILD)/idl/mem.h $(BUILD)/idl/kv.h $(BASE_HDRS)
$(INIT_ELF): $(UOBJ)/$(BUILD)/idl/mapper_server.c.o
test: $(LAZYTEST_ELF)
-include $(patsubst %,$(UOBJ)/%.d,$(wildcard servers/memd/*.c))
# <<< the memory manager at boot <<<

# ---- lazy program images (lib/elfload/lazy.c, servers/mem/image.c) ------
# The host test of lazy loading builds lib/ code; the benchmarks carry the
# tests' child program, whose image the manager maps lazily.
$(BUILD)/host/test_elflazy: lib/elfload/parse.c lib/elfload/lazy.c lib/elfload/elfload.h tests/user/elf_cases.h
$(BUILD)/host/test_elfload: lib/elfload/lazy.c
$(BENCH_ELF): $(UOBJ)/tests/user/child-image.S.o
# ---- end of lazy program images -----------------------------------------

# Pith's figures, then a Linux guest's in the same QEMU mode (bench/linux/).
.PHONY: need-bench
need-bench:
	$(Q)tools/need.sh bench
	$(Q)$(PINNED_QEMU)
bench: need-bench $(KERNEL_BIN) $(BENCH_ELF)
	$(Q)ACCEL=$(ACCEL) SMP=$(SMP) BUILD=$(BUILD) tools/bench.sh

clean:
	rm -rf $(BUILD)

-include $(KERNEL_OBJS:.o=.d) $(LIBPITH_OBJS:.o=.d) $(INIT_OBJS:.o=.d) $(UTESTS_OBJS:.o=.d) $(BENCH_OBJS:.o=.d) $(FUZZ_OBJS:.o=.d)

# Keep intermediate objects (pattern-built): rebuilding them every time is waste.
.SECONDARY:

# >>> network: the virtio-net driver and the lwIP network server (servers/netdev, servers/net; docs/network.md) >>>
# netdev serves frames as /dev/net0; net runs lwIP 2.1.3 (fetched from
# Debian's archive into build/lwip by tools/lwip-fetch.sh, sha256 pinned:
# docs/decisions/0017-lwip.md) and serves sockets as /svc/net.  lwIP's
# sources build with our own flags and warnings, gcc and clang alike.
vpath %.idl servers/netdev servers/net
LWIP_DIR := $(BUILD)/lwip/lwip-2.1.3
LWIP_FILES := core/init.c core/def.c core/inet_chksum.c core/ip.c core/mem.c core/memp.c core/netif.c \
	core/pbuf.c core/raw.c core/tcp.c core/tcp_in.c core/tcp_out.c core/timeouts.c core/udp.c \
	core/ipv4/etharp.c core/ipv4/icmp.c core/ipv4/ip4.c core/ipv4/ip4_addr.c core/ipv4/ip4_frag.c \
	core/ipv4/dhcp.c netif/ethernet.c
LWIP_SRCS := $(addprefix $(LWIP_DIR)/src/,$(LWIP_FILES))
LWIP_OBJS := $(patsubst %,$(UOBJ)/%.o,$(LWIP_SRCS))
NET_INC := -Iservers/net/port -I$(LWIP_DIR)/src/include
NETDEV_ELF := $(BUILD)/user/netdev.elf
NET_ELF    := $(BUILD)/user/net.elf
NETDEV_IDL_OBJ := $(patsubst %,$(UOBJ)/$(BUILD)/idl/%.c.o,netdev_client netdev_server)
SOCKET_IDL_OBJ := $(patsubst %,$(UOBJ)/$(BUILD)/idl/%.c.o,socket_client socket_server)
NETDEV_OBJS := $(patsubst %,$(UOBJ)/%.o,$(wildcard servers/netdev/*.c))
NET_OBJS := $(patsubst %,$(UOBJ)/%.o,$(wildcard servers/net/*.c))
USER_CFLAGS += -Iservers/netdev -Iservers/net
$(BUILD)/lwip/.unpacked: tools/lwip-fetch.sh
	$(Q)tools/need.sh lwip
	$(Q)tools/lwip-fetch.sh $(BUILD)/lwip
	$(Q)touch $@
$(LWIP_SRCS): $(BUILD)/lwip/.unpacked
	@:
$(LWIP_OBJS) $(NET_OBJS): USER_CFLAGS += $(NET_INC)
$(NETDEV_OBJS) $(NET_OBJS): | $(BUILD)/idl/netdev.h $(BUILD)/idl/socket.h $(BUILD)/idl/pci.h $(BASE_HDRS)
$(NET_OBJS): | $(BUILD)/lwip/.unpacked
$(NETDEV_ELF): $(NETDEV_OBJS) $(VIRTIO_OBJ) $(NETDEV_IDL_OBJ) $(PCI_IDL_OBJ) $(RESOLVER_OBJS)
$(NET_ELF): $(NET_OBJS) $(LWIP_OBJS) $(SOCKET_IDL_OBJ) $(NETDEV_IDL_OBJ) $(RESOLVER_OBJS)
# nettest: the two-node test program (tests/system/net.sh), also make bench's UDP round trip.
NETTEST_ELF := $(BUILD)/user/nettest.elf
NETTEST_OBJS := $(patsubst %,$(UOBJ)/%.o,$(wildcard tests/system/nettest/*.c))
$(NETTEST_OBJS): | $(BUILD)/idl/socket.h $(BUILD)/idl/procmgr.h $(BASE_HDRS)
$(NETTEST_ELF): $(NETTEST_OBJS) $(SOCKET_IDL_OBJ) $(BASE_IDL_OBJ_procmgr) $(RESOLVER_OBJS)
-include $(NETTEST_OBJS:.o=.d)
NET_PROGRAMS := $(NETDEV_ELF) $(NET_ELF) $(NETTEST_ELF)
# make run's manifest starts both (DHCP); make run NET=user gives the machine QEMU's user network.
# (This block comes after the running rules, whose prerequisites and MODARGS are already expanded.)
MODULES += $(NETDEV_ELF) $(NET_ELF)
run debug iso $(BUILD)/pith.iso: $(NETDEV_ELF) $(NET_ELF)
run: MODARGS += --module $(NETDEV_ELF) --module $(NET_ELF)
run: RUN += $(if $(NET),--net $(NET))
# The shell's ifconfig and ping (servers/shell/net.c) call /svc/net; so do the POSIX personality's sockets.
$(POSIX_ELF): $(SOCKET_IDL_OBJ)
$(POSIX_OBJS): | $(BUILD)/idl/socket.h
$(SHELL_ELF): $(SOCKET_IDL_OBJ) $(UOBJ)/servers/net/config.c.o
$(patsubst %,$(UOBJ)/%.o,$(wildcard servers/shell/*.c)): | $(BUILD)/idl/socket.h
test bench: $(NET_PROGRAMS)
# make bench's pith.boot_to_shell boots make run's system, on a copy of its disk (tools/bench.sh).
bench: $(MODULES) $(DISK_IMG)
bench: export BENCH_RUN_MODULES := $(MODULES)
bench: export BENCH_RUN_MEM := $(MEM)
-include $(NETDEV_OBJS:.o=.d) $(NET_OBJS:.o=.d) $(LWIP_OBJS:.o=.d)
# The server's command-line parser on the host.
$(BUILD)/host/test_netcfg: servers/net/config.c servers/net/netcfg.h
# <<< network <<<

# >>> network IPC (lib/netipc/, lib/bearssl/, docs/network.md) >>>
# The transport's host test links BearSSL's primitives (vendored unchanged, decision 0018).
NETIPC_SRCS := $(wildcard lib/netipc/*.c)
BEARSSL_SRCS := $(wildcard lib/bearssl/src/*/*.c)
# Byte-by-byte loads: BearSSL's unaligned word loads on x86 are what UBSan refuses.
BEARSSL_CFLAGS := -Ilib/bearssl/inc -Ilib/bearssl/src -DBR_LE_UNALIGNED=0 -DBR_BE_UNALIGNED=0
$(BUILD)/host/test_netipc: $(NETIPC_SRCS) $(wildcard lib/netipc/*.h) $(BEARSSL_SRCS)
$(BUILD)/host/test_netipc: HOST_CFLAGS += $(BEARSSL_CFLAGS) -Ilib/netipc
# The server's configuration parser and wire format on the host.
$(BUILD)/host/test_netipc_conf: $(wildcard servers/netipc/*.h) servers/netipc/conf.c servers/netipc/wire.c
$(BUILD)/host/test_netipc_conf: HOST_CFLAGS += -Iservers/netipc
# The network IPC server (servers/netipc/): lib/netipc and BearSSL built
# freestanding with the user flags; its configuration comes from /fs.
NETIPC_ELF := $(BUILD)/user/netipc.elf
NETIPC_SRV_OBJS := $(patsubst %,$(UOBJ)/%.o,$(wildcard servers/netipc/*.c))
NETIPC_LIB_OBJS := $(patsubst %,$(UOBJ)/%.o,$(NETIPC_SRCS) $(BEARSSL_SRCS))
$(NETIPC_SRV_OBJS) $(NETIPC_LIB_OBJS): USER_CFLAGS += $(BEARSSL_CFLAGS) -Ilib/netipc -Iservers/netipc
$(NETIPC_SRV_OBJS): | $(BUILD)/idl/socket.h $(BUILD)/idl/fs.h $(BASE_HDRS)
$(NETIPC_ELF): $(NETIPC_SRV_OBJS) $(NETIPC_LIB_OBJS) $(SOCKET_IDL_OBJ) $(FS_IDL_OBJ) $(RESOLVER_OBJS)
-include $(NETIPC_SRV_OBJS:.o=.d) $(NETIPC_LIB_OBJS:.o=.d)
# netipc-keygen: key pairs for the configuration, on the host (the two-node test makes its keys with it).
NETIPC_KEYGEN := $(BUILD)/tools/netipc-keygen
$(NETIPC_KEYGEN): tools/netipc-keygen/keygen.c $(NETIPC_SRCS) $(wildcard lib/netipc/*.h) $(BEARSSL_SRCS)
	@mkdir -p $(dir $@)
	$(Q)$(HOSTCC) -std=c11 -O2 -Wall -Wextra -Werror $(BEARSSL_CFLAGS) -Ilib/netipc -o $@ $(filter %.c,$^)
	@echo "  HOSTCC  $@"
# netipctest: the two-machine test program (tests/system/netipc.sh), kv's stubs on /net/NODE/svc/kv.
NETIPCTEST_ELF := $(BUILD)/user/netipctest.elf
NETIPCTEST_OBJS := $(patsubst %,$(UOBJ)/%.o,$(wildcard tests/system/netipctest/*.c))
$(NETIPCTEST_OBJS): | $(BUILD)/idl/socket.h $(BUILD)/idl/kv.h $(BASE_HDRS)
$(NETIPCTEST_ELF): $(NETIPCTEST_OBJS) $(BASE_IDL_OBJ_kv) $(BASE_IDL_OBJ_procmgr) $(SOCKET_IDL_OBJ) $(RESOLVER_OBJS)
-include $(NETIPCTEST_OBJS:.o=.d)
test: $(NETIPC_ELF) $(NETIPCTEST_ELF) $(NETIPC_KEYGEN)
bench: $(NETIPC_ELF) $(NETIPCTEST_ELF) $(NETIPC_KEYGEN) $(KVD_ELF)
# <<< network IPC <<<
