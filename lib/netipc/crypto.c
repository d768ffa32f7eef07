/*
 * BearSSL beneath lib/netipc: thin wrappers, so that the rest names what
 * it does (seal, open, agree) and never a BearSSL type.
 */
#include "crypto.h"

#include <bearssl.h>
#include <string.h>

static const uint8_t basepoint[32] = { 9 };

void nc_x25519_public(uint8_t pub[32], const uint8_t secret[32])
{
    memcpy(pub, basepoint, 32);
    br_ec_c25519_m31.mul(pub, 32, secret, 32, BR_EC_curve25519);
}

bool nc_x25519(uint8_t out[32], const uint8_t secret[32], const uint8_t pub[32])
{
    memcpy(out, pub, 32);
    br_ec_c25519_m31.mul(out, 32, secret, 32, BR_EC_curve25519);
    uint8_t any = 0;
    for (int i = 0; i < 32; i++)
        any |= out[i];
    return any != 0;
}

void nc_hash2(uint8_t out[32], const void *a, size_t alen, const void *b, size_t blen)
{
    br_sha256_context c;
    br_sha256_init(&c);
    br_sha256_update(&c, a, alen);
    br_sha256_update(&c, b, blen);
    br_sha256_out(&c, out);
}

void nc_hkdf(uint8_t out1[32], uint8_t out2[32], const uint8_t ck[32], const void *ikm, size_t ikm_len)
{
    br_hkdf_context hc;
    uint8_t okm[64];
    br_hkdf_init(&hc, &br_sha256_vtable, ck, 32);
    br_hkdf_inject(&hc, ikm, ikm_len);
    br_hkdf_flip(&hc);
    br_hkdf_produce(&hc, NULL, 0, okm, sizeof okm);
    memcpy(out1, okm, 32);
    memcpy(out2, okm + 32, 32);
    nc_wipe(okm, sizeof okm);
    nc_wipe(&hc, sizeof hc);
}

/* RFC 8439's 96-bit nonce: four zero bytes, then the counter little-endian. */
static void make_nonce(uint8_t iv[12], uint64_t nonce)
{
    memset(iv, 0, 4);
    for (int i = 0; i < 8; i++)
        iv[4 + i] = (uint8_t)(nonce >> (8 * i));
}

void nc_seal(const uint8_t key[32], uint64_t nonce, const void *ad, size_t ad_len, uint8_t *data, size_t len,
             uint8_t tag[16])
{
    uint8_t iv[12];
    make_nonce(iv, nonce);
    br_poly1305_ctmul_run(key, iv, data, len, ad, ad_len, tag, br_chacha20_ct_run, 1);
}

bool nc_open(const uint8_t key[32], uint64_t nonce, const void *ad, size_t ad_len, uint8_t *data, size_t len,
             const uint8_t tag[16])
{
    uint8_t iv[12], want[16];
    make_nonce(iv, nonce);
    /* Decryption computes the tag over the ciphertext, then decrypts: undo it on a mismatch. */
    br_poly1305_ctmul_run(key, iv, data, len, ad, ad_len, want, br_chacha20_ct_run, 0);
    uint8_t diff = 0;
    for (int i = 0; i < 16; i++)
        diff |= (uint8_t)(want[i] ^ tag[i]);
    if (diff) {
        br_chacha20_ct_run(key, iv, 1, data, len);
        return false;
    }
    return true;
}

void nc_wipe(void *p, size_t len)
{
    volatile uint8_t *b = p;
    while (len--)
        *b++ = 0;
}
