/*
 * Kernel object types, capability rights and object sizes.  Every kernel
 * object is made by retyping untyped memory and named only by capabilities.
 */
#ifndef PITH_OBJECTS_H
#define PITH_OBJECTS_H

enum pith_object_type {
    PITH_OBJ_NULL = 0,          /* an empty slot */
    PITH_OBJ_UNTYPED = 1,       /* 2^n bytes of memory to make objects from */
    PITH_OBJ_CNODE = 2,         /* a table of 2^n capability slots: a capability space */
    PITH_OBJ_TCB = 3,           /* a thread */
    PITH_OBJ_VSPACE = 4,        /* an address space (the top-level page table) */
    PITH_OBJ_PAGE_TABLE = 5,    /* a page table for any lower level */
    PITH_OBJ_FRAME = 6,         /* a 4 KiB page of memory */
    PITH_OBJ_ENDPOINT = 7,      /* synchronous IPC rendezvous */
    PITH_OBJ_NOTIFICATION = 8,  /* a word of signal bits */
    PITH_OBJ_REPLY = 9,         /* the right to answer one call */
    PITH_OBJ_ZOMBIE = 10,       /* kernel-internal: an object being destroyed */
    PITH_OBJ_LOG = 11,          /* the kernel log (no memory; given to the first task) */
    PITH_OBJ_IO_PORTS = 12,     /* a range of I/O ports (no memory) */
    PITH_OBJ_IRQ_CONTROL = 13,  /* the right to bind handlers to interrupt lines (no memory) */
    PITH_OBJ_IRQ_HANDLER = 14,  /* one handler on one interrupt line */
    PITH_OBJ_PORT = 15,         /* a queue of asynchronous messages (2^n bytes) */
    PITH_OBJ_PORT_GROUP = 16,   /* ports that a message goes to one or all of (2^n bytes) */
    PITH_OBJ_EXTENSION = 17,    /* a verified program run by the kernel on an event (docs/extensions.md) */
    PITH_OBJ_TYPE_COUNT
};

/* Capability rights: a copy may have fewer, never more. */
#define PITH_RIGHT_READ     0x01u   /* receive, read, map readable */
#define PITH_RIGHT_WRITE    0x02u   /* send, write, map writable */
#define PITH_RIGHT_GRANT    0x04u   /* pass capabilities through it */
#define PITH_RIGHT_EXEC     0x08u   /* map executable */
#define PITH_RIGHT_PHYS     0x10u   /* learn the physical address (for DMA) */
#define PITH_RIGHTS_ALL     0x1fu

/* Object sizes as powers of two (bytes), for objects of fixed size. */
#define PITH_SLOT_BITS          6   /* one capability slot: 64 bytes */
#define PITH_TCB_BITS           12
#define PITH_VSPACE_BITS        12
#define PITH_PAGE_TABLE_BITS    12
#define PITH_FRAME_BITS         12
#define PITH_ENDPOINT_BITS      6
#define PITH_NOTIFICATION_BITS  6
#define PITH_REPLY_BITS         6
#define PITH_IRQ_HANDLER_BITS   7
#define PITH_PORT_MIN_BITS      8       /* one message */
#define PITH_PORT_MAX_BITS      16      /* 511 messages */
#define PITH_PORT_GROUP_MIN_BITS 7      /* one member */
#define PITH_PORT_GROUP_MAX_BITS 12     /* 63 members */
#define PITH_EXTENSION_BITS     13      /* text of up to 512 instructions, maps, counters */
#define PITH_UNTYPED_MIN_BITS   6
#define PITH_UNTYPED_MAX_BITS   47
#define PITH_CNODE_MIN_SLOTS_BITS 1
#define PITH_CNODE_MAX_SLOTS_BITS 20

#endif
