/*
 * What a remote call carries (docs/network.md): the service's name and
 * the IPC message's label and words, never a capability.  A reply carries
 * a status, the label and the words.  Little-endian, checked on arrival.
 */
#ifndef NETIPC_WIRE_H
#define NETIPC_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WIRE_VERSION    1
#define WIRE_WORDS_MAX  120             /* PITH_MSG_MAX */
#define WIRE_NAME_MAX   63

/* Reply status: the call's answer; the service died or was unreachable there; not exported there. */
enum { WIRE_OK = 0, WIRE_DIED = 1, WIRE_NO_SERVICE = 2 };

/* Encodes into out (room for max bytes); the length, or 0 if it does not fit or is malformed. */
size_t wire_request(uint8_t *out, size_t max, const char *name, uint64_t label, const uint64_t *words,
                    unsigned n);
size_t wire_reply(uint8_t *out, size_t max, int status, uint64_t label, const uint64_t *words, unsigned n);

/* Decodes; false if the bytes are not exactly one well-formed message. */
bool wire_parse_request(const uint8_t *in, size_t len, char name[WIRE_NAME_MAX + 1], uint64_t *label,
                        uint64_t words[WIRE_WORDS_MAX], unsigned *n);
bool wire_parse_reply(const uint8_t *in, size_t len, int *status, uint64_t *label, uint64_t words[WIRE_WORDS_MAX],
                      unsigned *n);

#endif
