/*
 * The name service as seen by a process: the resolver that generated
 * client stubs use to find (and find again, after a restart) the server
 * behind a name, and registration of our own endpoints.
 */
#ifndef NAMES_RESOLVER_H
#define NAMES_RESOLVER_H

#include "idl.h"

/* Looks names up through the name service capability in PITH_SLOT_NAMES. */
extern const struct pith_resolver names_resolver;

/* The calling thread's binding to the name service (NULL if too many threads use it). */
struct pith_client *names_client(void);

/* Registers the endpoint in slot ep under name; 0 or an error (names.idl). */
long register_name(const char *name, uint64_t ep);

#endif
