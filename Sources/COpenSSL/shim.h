// OpenSSL's libcrypto, for the digest hashes (MD5, SHA-256, SHA-512/256) and, later, TLS.
#ifndef DIALTONE_COPENSSL_SHIM_H
#define DIALTONE_COPENSSL_SHIM_H
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#endif
