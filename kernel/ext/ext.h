/*
 * The extension machine: verifier and interpreter (docs/extensions.md).
 * Neither touches anything but its arguments, so both are built for the
 * host too, where tests/host runs every rule and a million random programs.
 */
#ifndef PITH_EXT_EXT_H
#define PITH_EXT_EXT_H

#include <stdint.h>
#include <pith/extension.h>

struct ext_verdict {
    int rule;                           /* PITH_EXT_OK or the rule broken */
    uint32_t insn;                      /* where */
};

/* Whether prog (n instructions) may run for `event`: proven to stop, stay in bounds, leak nothing. */
struct ext_verdict ext_verify(const struct pith_ext_insn *prog, uint32_t n, uint32_t event);

/* One line saying what the rule forbids. */
const char *ext_rule_text(int rule);

/* The size of an event's context and where its writable part starts (0 for an unknown event). */
uint32_t ext_ctx_size(uint32_t event);
uint32_t ext_ctx_writable_from(uint32_t event);

/* dst OP src for the arithmetic opcodes, as the machine defines them (x / 0 = 0, x % 0 = x). */
uint64_t ext_alu(uint8_t op, uint64_t a, uint64_t b);

/* What a run may reach besides its context and stack. */
struct ext_env {
    uint64_t *maps[PITH_EXT_MAPS];      /* PITH_EXT_MAP_WORDS each, or NULL (reads 0, writes ignored) */
    const uint64_t *msg;                /* IPC: the sender's message words (NULL: only words 0-3) */
    uint64_t msg_len;                   /* words readable through msg */
    const uint64_t *msg_regs;           /* IPC: words 0-3 */
};

/*
 * Runs a program ext_verify accepted for the same event.  Returns r0, or
 * 0 with *aborted set when a helper's run-time check stopped it.
 */
uint64_t ext_run(const struct pith_ext_insn *prog, uint32_t n, void *ctx, const struct ext_env *env,
                 int *aborted);

#endif
