/*
 * The primitives lib/netipc composes, over BearSSL (lib/bearssl/,
 * decision 0018): X25519, SHA-256, HKDF-SHA-256 and the ChaCha20-Poly1305
 * AEAD.  Nothing here is cryptography of our own.
 */
#ifndef NETIPC_CRYPTO_H
#define NETIPC_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void nc_x25519_public(uint8_t pub[32], const uint8_t secret[32]);
/* out = X25519(secret, pub); false for an all-zero result (a low-order point: RFC 7748, 6.1). */
bool nc_x25519(uint8_t out[32], const uint8_t secret[32], const uint8_t pub[32]);
/* out = SHA-256(a || b). */
void nc_hash2(uint8_t out[32], const void *a, size_t alen, const void *b, size_t blen);
/* out1 || out2 = HKDF-SHA-256(salt = ck, ikm, info = ""), 64 bytes. */
void nc_hkdf(uint8_t out1[32], uint8_t out2[32], const uint8_t ck[32], const void *ikm, size_t ikm_len);
/* Encrypts data in place and writes the tag. */
void nc_seal(const uint8_t key[32], uint64_t nonce, const void *ad, size_t ad_len, uint8_t *data, size_t len,
             uint8_t tag[16]);
/* Checks the tag and decrypts in place; false (data left as it came) if it does not match. */
bool nc_open(const uint8_t key[32], uint64_t nonce, const void *ad, size_t ad_len, uint8_t *data, size_t len,
             const uint8_t tag[16]);
/* Zeroes secrets in a way the compiler keeps. */
void nc_wipe(void *p, size_t len);

#endif
