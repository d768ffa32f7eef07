/* The log capability, thread-local storage bases, notification binding rules. */
#include "utest.h"

UTEST(log_read_returns_what_was_written)
{
    printf("utest-log-marker-%d\n", 4711);
    struct pith_msg m = { .w = { 0 } };
    const char *buf = (const char *)PITH_IPC_BUFFER_ADDR;
    int found = 0;
    uint64_t pos = 0;
    /* Read the whole ring in IPC-buffer-sized pieces; look for the marker. */
    for (int i = 0; i < 64; i++) {
        m.w[0] = pos;
        UT_EQ(pith_invoke(PITH_SLOT_LOG, PITH_LOG_READ, &m), PITH_OK);
        if (m.w[0] == 0)
            break;
        for (uint64_t j = 0; j + 22 <= m.w[0]; j++) {
            const char *want = "utest-log-marker-4711";
            int k = 0;
            while (want[k] && buf[j + k] == want[k])
                k++;
            if (!want[k])
                found = 1;
        }
        /* The next piece starts a marker's length back, so a marker cut by the boundary is read whole. */
        if (m.w[0] < sizeof(struct pith_ipc_buffer))
            break;
        pos = m.w[1] - 22;
    }
    UT_ASSERT(found);
    UT_EQ(pith_invoke4(PITH_SLOT_LOG, PITH_LOG_WRITE, 5000, 0, 0, 0), PITH_E_INVALID_ARG);
}

static volatile uint64_t fs_seen;

static void read_fs(uint64_t unused)
{
    (void)unused;
    uint64_t v;
    __asm__ volatile("movq %%fs:0, %0" : "=r"(v));
    fs_seen = v;
}

static uint64_t tls_block[4] = { 0xfeedface, 0, 0, 0 };

UTEST(tls_base_is_per_thread)
{
    fs_seen = 0;
    uint64_t t = make_thread(read_fs, 0, 150);
    UT_ASSERT(t);
    UT_EQ(pith_invoke4(t, PITH_TCB_SET_TLS, (uint64_t)tls_block, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_EQ(fs_seen, 0xfeedface);
}

static void idle_thread(uint64_t unused)
{
    (void)unused;
}

UTEST(notification_binds_to_one_thread)
{
    uint64_t n = make_object(PITH_OBJ_NOTIFICATION, 0);
    uint64_t a = make_thread(idle_thread, 0, 10), b = make_thread(idle_thread, 0, 10);
    UT_EQ(pith_invoke4(a, PITH_TCB_BIND_NOTIFICATION, n, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(b, PITH_TCB_BIND_NOTIFICATION, n, 0, 0, 0), PITH_E_STATE);
    UT_EQ(pith_invoke4(a, PITH_TCB_BIND_NOTIFICATION, 0, 0, 0, 0), PITH_OK);     /* unbind */
    UT_EQ(pith_invoke4(b, PITH_TCB_BIND_NOTIFICATION, n, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(b, PITH_TCB_BIND_NOTIFICATION, PITH_SLOT_LOG, 0, 0, 0), PITH_E_WRONG_TYPE);
}

static void sleep_ages(uint64_t ns)
{
    pith_sleep_ns(ns);
}

UTEST(sleep_for_ages_does_not_wrap)
{
    /* A thread asked to sleep ~forever must not wake at once (the wake time saturates). */
    uint64_t t = make_thread(sleep_ages, ~0ull, 150);
    UT_ASSERT(t);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    pith_sleep_ns(5000000);
    struct pith_msg m = { 0 };
    UT_EQ(pith_invoke(t, PITH_TCB_READ_REGISTERS, &m), PITH_OK);
    UT_EQ(m.w[3], 6);                           /* still sleeping */
}

UTEST(unknown_system_call_suspends_the_thread)
{
    uint64_t t = make_thread(idle_thread, 0, 150);
    UT_ASSERT(t);
    /* Point it at a Linux write(2): a SYSCALL with rax = 1. */
    struct pith_msg regs = { 0 };
    UT_EQ(pith_invoke(t, PITH_TCB_READ_REGISTERS, &regs), PITH_OK);
    extern const char linux_syscall_stub[];
    UT_EQ(pith_invoke4(t, PITH_TCB_WRITE_REGISTERS, (uint64_t)linux_syscall_stub, regs.w[1], 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke(t, PITH_TCB_READ_REGISTERS, &regs), PITH_OK);
    UT_EQ(regs.w[3], 0);                        /* suspended */
}

/* A deliberate Linux system call, recorded so the build's system-call check allows it. */
__asm__(".text\n"
        ".globl linux_syscall_stub\n"
        "linux_syscall_stub:\n"
        "  mov $1, %eax\n"
        PITH_SYSCALL_INSN
        "1: jmp 1b\n");

/* Programs get the log with fewer rights than init: they write, read, but cannot end the system. */
UTEST(log_rights_write_read_shutdown)
{
    uint64_t rw = pith_slot_alloc(), ro = pith_slot_alloc(), wo = pith_slot_alloc();
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, rw, PITH_SLOT_LOG, PITH_RIGHT_READ | PITH_RIGHT_WRITE, 0), PITH_OK);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, ro, PITH_SLOT_LOG, PITH_RIGHT_READ, 0), PITH_OK);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, wo, PITH_SLOT_LOG, PITH_RIGHT_WRITE, 0), PITH_OK);
    UT_EQ(pith_invoke4(rw, PITH_LOG_SHUTDOWN, 1, 0, 0, 0), PITH_E_NO_RIGHTS);
    UT_EQ(pith_invoke4(ro, PITH_LOG_WRITE, 1, 0, 0, 0), PITH_E_NO_RIGHTS);
    UT_EQ(pith_invoke4(wo, PITH_LOG_READ, 0, 0, 0, 0), PITH_E_NO_RIGHTS);
    UT_EQ(pith_invoke4(ro, PITH_LOG_READ, 0, 0, 0, 0), PITH_OK);
    const uint64_t copies[] = { rw, ro, wo };
    for (int i = 0; i < 3; i++)
        UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, copies[i], 0, 0, 0), PITH_OK);
}
