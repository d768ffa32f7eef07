/*
 * Network IPC transport (docs/network.md, "Network IPC"): calls between
 * nodes over datagrams, authenticated and sealed.  Freestanding: no
 * allocation, no clock, no I/O.  The caller supplies the memory (struct
 * netipc and its peers), the time (now, in nanoseconds, on every entry),
 * randomness, and a function that sends a datagram to a peer; it feeds
 * every datagram received to netipc_input and calls netipc_poll by the
 * deadline it returns.
 *
 * Nodes know each other's static X25519 public keys (the known-peers
 * list).  A session is a Noise-KK-like handshake (ephemeral keys, both
 * static keys) giving two ChaCha20-Poly1305 keys; every later frame is
 * sealed with the sequence number as nonce and checked against a replay
 * window.  A frame that fails any check is dropped and counted.
 *
 * Calls: a request of up to NETIPC_MSG_MAX bytes travels in fragments of
 * at most NETIPC_FRAG_DATA bytes and is retransmitted until its reply
 * comes or the call's deadline passes (NETIPC_E_UNREACHABLE).  The
 * receiving side runs each request at most once: a repeated request gets
 * the kept reply.
 */
#ifndef NETIPC_H
#define NETIPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NETIPC_VERSION      1
#define NETIPC_KEY_LEN      32
#define NETIPC_TAG_LEN      16
#define NETIPC_HDR_LEN      16          /* version, type, 2 zero bytes, connection, sequence */
#define NETIPC_MSG_MAX      1536        /* one IPC message (label, 120 words) with its service name */
#define NETIPC_FRAG_DATA    512         /* message bytes per frame: the longest message takes three */
#define NETIPC_FRAGS_MAX    ((NETIPC_MSG_MAX + NETIPC_FRAG_DATA - 1) / NETIPC_FRAG_DATA)
#define NETIPC_INNER_LEN    24          /* kind, fragment, count, 0, length, 0, call id, watermark */
#define NETIPC_FRAME_MAX    (NETIPC_HDR_LEN + NETIPC_INNER_LEN + NETIPC_FRAG_DATA + NETIPC_TAG_LEN)
#define NETIPC_CALLS        4           /* calls in flight to one peer */
#define NETIPC_SERVED       8           /* requests from one peer kept (running or answered) */
#define NETIPC_WINDOW       64          /* replay window, in sequence numbers */
#define NETIPC_HELLO_LEN    (NETIPC_HDR_LEN + 32 + 24 + NETIPC_TAG_LEN)
#define NETIPC_WELCOME_LEN  (NETIPC_HDR_LEN + 32 + 8 + NETIPC_TAG_LEN)

/* Retransmission: first after RTO, doubling up to RTO_MAX; a call gives up at its deadline. */
#define NETIPC_RTO_NS           (30ull * 1000 * 1000)
#define NETIPC_RTO_MAX_NS       (480ull * 1000 * 1000)
#define NETIPC_CALL_TIMEOUT_NS  (3000ull * 1000 * 1000)

/* Frame types (second byte). */
enum { NETIPC_HELLO = 1, NETIPC_WELCOME = 2, NETIPC_DATA = 3 };

/* Errors of netipc_call and of completed calls. */
enum netipc_error {
    NETIPC_OK = 0,
    NETIPC_E_UNREACHABLE = 1,   /* no reply within the call's deadline: node or network down */
    NETIPC_E_TOO_LONG = 2,      /* a message longer than NETIPC_MSG_MAX */
    NETIPC_E_BUSY = 3,          /* NETIPC_CALLS calls already in flight to that peer */
    NETIPC_E_PEER = 4,          /* no such peer */
    NETIPC_E_STATE = 5,         /* netipc_reply for a request not running */
    NETIPC_E_RESTARTED = 6,     /* the peer node restarted holding the call: it may have happened */
};

/* Frames dropped, by reason, and other events worth a figure. */
struct netipc_counters {
    uint64_t malformed;     /* too short or long, wrong version, type or zero bytes */
    uint64_t unknown_peer;  /* a hello from a node not in the known-peers list */
    uint64_t unknown_conn;  /* a frame for no session of ours */
    uint64_t auth_failed;   /* a seal that does not open: wrong key or tampered */
    uint64_t replayed;      /* a sequence number seen already or too old; an old hello */
    uint64_t stale;         /* a reply for no call of ours, a request already acknowledged */
    uint64_t busy;          /* a request dropped for want of room (it will be sent again) */
    uint64_t retransmits;   /* frames sent again */
    uint64_t timeouts;      /* calls that ended NETIPC_E_UNREACHABLE */
    uint64_t handshakes;    /* sessions established */
};

/* A message being put together from fragments, or kept whole. */
struct netipc_msg {
    uint8_t data[NETIPC_MSG_MAX];
    uint32_t len;
    uint32_t have;          /* bit i: fragment i arrived */
    uint32_t frags;         /* how many fragments it has (0: none arrived yet) */
};

struct netipc_call {        /* one of our calls to the peer */
    enum { CALL_FREE, CALL_SENT } state;
    uint64_t id;
    void *cookie;
    uint64_t deadline, next_send, rto;
    uint64_t started;               /* when it was made */
    unsigned sends;                 /* how often the request went out */
    uint64_t sent_boot;             /* the peer's incarnation it was last sent to */
    struct netipc_msg req, rep;
};

struct netipc_served {      /* one request from the peer */
    enum { SERVED_FREE, SERVED_ASSEMBLING, SERVED_RUNNING, SERVED_ANSWERED } state;
    uint64_t id;
    struct netipc_msg req, rep;
};

/* Symmetric handshake state (Noise's chaining key, hash and key). */
struct netipc_hs {
    uint8_t ck[32], h[32], k[32];
};

struct netipc_peer {
    uint64_t node;                      /* its node number */
    uint8_t public_key[NETIPC_KEY_LEN]; /* its static X25519 key */
    void *addr;                         /* the transport's, for send */
    /* the session */
    enum { PEER_IDLE, PEER_HELLO_SENT, PEER_ESTABLISHED } state;
    uint32_t local_conn, remote_conn;
    uint8_t send_key[32], recv_key[32];
    uint64_t send_seq, recv_top, recv_bits;
    uint64_t last_hello_stamp;          /* newest hello accepted from it */
    uint64_t boot;                      /* its incarnation (its wall clock at start), from the handshake */
    uint64_t heard;                     /* when a frame of the session last opened */
    /* the handshake we started */
    struct netipc_hs hs;
    uint8_t eph_secret[32], eph_public[32];
    uint64_t hello_next, hello_rto;
    uint8_t hello[NETIPC_HELLO_LEN];    /* sent again as it is until answered */
    /* the last hello we answered: the same hello again gets the same welcome (ours was lost) */
    uint8_t answered_eph[32];
    uint8_t welcome[NETIPC_WELCOME_LEN];
    /* calls */
    struct netipc_call calls[NETIPC_CALLS];
    struct netipc_served served[NETIPC_SERVED];
    uint64_t watermark;                 /* its oldest call still open (requests below are answered) */
};

struct netipc;

struct netipc_config {
    uint64_t node;                          /* our node number */
    uint8_t secret_key[NETIPC_KEY_LEN];     /* our static X25519 secret */
    /* Nanoseconds at now == 0 on a clock that only grows, across restarts too (RTC based). */
    uint64_t wall_base;
    uint64_t call_timeout_ns;               /* 0: NETIPC_CALL_TIMEOUT_NS */
    void *ctx;
    /* Sends one datagram to the peer; errors are the network's, as a loss. */
    void (*send)(void *ctx, struct netipc_peer *p, const uint8_t *frame, size_t len);
    /* Fills buf with len random bytes. */
    void (*random)(void *ctx, uint8_t *buf, size_t len);
    /* A request arrived whole: answer it later with netipc_reply (peer, id). */
    void (*request)(void *ctx, struct netipc_peer *p, uint64_t id, const uint8_t *msg, size_t len);
    /* A call of ours ended: status NETIPC_OK with the reply, or NETIPC_E_UNREACHABLE. */
    void (*reply)(void *ctx, void *cookie, int status, const uint8_t *msg, size_t len);
};

struct netipc {
    struct netipc_config cfg;
    uint8_t public_key[NETIPC_KEY_LEN];
    struct netipc_peer *peers;
    size_t npeers;
    uint64_t boot;                          /* our incarnation: wall clock at netipc_init */
    uint64_t next_call_id, last_stamp;
    struct netipc_counters counters;
    uint8_t frame[NETIPC_FRAME_MAX];        /* scratch for frames we build */
};

/*
 * Sets up n with our keys and the known peers (the caller's array: node,
 * public_key and addr filled, the rest zero; at most 255).  NETIPC_OK, or
 * NETIPC_E_PEER for too many peers.  now: the caller's clock.
 */
int netipc_init(struct netipc *n, const struct netipc_config *cfg, struct netipc_peer *peers,
                size_t npeers, uint64_t now);

/* The X25519 public key of a secret key (for the known-peers list). */
void netipc_public_key(uint8_t public_key[NETIPC_KEY_LEN], const uint8_t secret_key[NETIPC_KEY_LEN]);

/* The peer with that node number, or NULL. */
struct netipc_peer *netipc_peer(struct netipc *n, uint64_t node);

/*
 * Starts a call to p: the request is copied, sent (after a handshake if
 * there is no session) and sent again until its reply or its deadline;
 * cfg.reply reports the end with the cookie.  NETIPC_OK, or an error and
 * nothing sent.
 */
int netipc_call(struct netipc *n, struct netipc_peer *p, const uint8_t *msg, size_t len, void *cookie,
                uint64_t now);

/* Answers the request (p, id) that cfg.request reported.  NETIPC_OK, _TOO_LONG or _STATE. */
int netipc_reply(struct netipc *n, struct netipc_peer *p, uint64_t id, const uint8_t *msg, size_t len);

/* One datagram received from the network (any source: it proves itself or is dropped). */
void netipc_input(struct netipc *n, const uint8_t *frame, size_t len, uint64_t now);

/* Sends what is due and ends calls past their deadline; returns the next time to call it. */
uint64_t netipc_poll(struct netipc *n, uint64_t now);

#endif
