/*
 * NAME
 *	keys_file - read, check, parse and wipe one DKIM private key file
 * SYNOPSIS
 *	#include "keys_int.h"
 *
 *	int	key_file_load(struct dkim_key *key, bool require_safe, uid_t owner_ok,
 *			const char *table, int line, char **error_r);
 *	void	key_wipe(struct dkim_key *key);
 *	void	keys_error(char **error_r, const char *file, int line,
 *			const char *fmt, ...);
 * DESCRIPTION
 *	The key file is opened with open(2) + fstat(2) (so the checks apply
 *	to the file actually read), bounded (KEYSET_MAX_KEYFILE), read into
 *	OpenSSL secure memory and parsed with OpenSSL: PEM PKCS#1 RSA or
 *	PKCS#8 RSA/Ed25519, unencrypted; the type comes from the key itself
 *	and RSA keys under KEYSET_MIN_RSA_BITS are refused.  key_wipe()
 *	clears the PEM text before freeing it.  Called from keyset_load()
 *	only, before the daemon drops privileges; no shared state.
 * DIAGNOSTICS
 *	"table:line: key file PATH: reason" through keys_error(), with the
 *	fix for unsafe permissions ("chmod 600 FILE", "chown root FILE").
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "keys_int.h"

/* keys_error - set *error_r to a malloc'd "file:line: reason" */
void __attribute__((format(printf, 4, 5)))
keys_error(char **error_r, const char *file, int line, const char *fmt, ...)
{
    char reason[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    if (error_r == NULL)
        return;
    if (line > 0) {
        if (asprintf(error_r, "%s:%d: %s", file, line, reason) < 0)
            *error_r = NULL;
    } else if (asprintf(error_r, "%s: %s", file, reason) < 0) {
        *error_r = NULL;
    }
}

/* no_passphrase - PEM password callback: encrypted keys are refused */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

/* key_read_file - read a key file with the safety checks; 0 or -1 */
static int key_read_file(struct dkim_key *key, bool require_safe, uid_t owner_ok, const char *table,
                         int line, char **error_r)
{
    struct stat st;
    unsigned char *data;
    ssize_t got;
    size_t have = 0;
    int fd;

    fd = open(key->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        keys_error(error_r, table, line, "cannot open key file %s: %s", key->path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        keys_error(error_r, table, line, "key file %s is not a regular file", key->path);
        close(fd);
        return -1;
    }
    if (require_safe && (st.st_mode & 077) != 0) {
        keys_error(error_r, table, line,
                   "key file %s is accessible by group or other (mode %04o): run chmod 600 %s",
                   key->path, (unsigned)(st.st_mode & 07777), key->path);
        close(fd);
        return -1;
    }
    if (require_safe && st.st_uid != 0 && st.st_uid != geteuid() && st.st_uid != owner_ok) {
        keys_error(error_r, table, line,
                   "key file %s is owned by uid %u, not root or uid %u: run chown root %s",
                   key->path, (unsigned)st.st_uid, (unsigned)geteuid(), key->path);
        close(fd);
        return -1;
    }
    if (st.st_size <= 0 || st.st_size > KEYSET_MAX_KEYFILE) {
        keys_error(error_r, table, line, "key file %s: size %lld out of range (1..%d)", key->path,
                   (long long)st.st_size, KEYSET_MAX_KEYFILE);
        close(fd);
        return -1;
    }
    data = OPENSSL_secure_malloc((size_t)st.st_size + 1);
    if (data == NULL) {
        fputs("keys: out of memory\n", stderr);
        abort();
    }
    while (have < (size_t)st.st_size) {
        got = read(fd, data + have, (size_t)st.st_size - have);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        have += (size_t)got;
    }
    close(fd);
    data[have] = 0;
    key->pem = data;
    key->pem_len = have;
    if (have != (size_t)st.st_size) {
        keys_error(error_r, table, line, "key file %s: short read", key->path);
        return -1;
    }
    return 0;
}

/* key_parse - parse the PEM text into an EVP_PKEY; 0 or -1 */
static int key_parse(struct dkim_key *key, const char *table, int line, char **error_r)
{
    const char *begin;
    BIO *bio;
    int id;

    begin = strstr((const char *)key->pem, "-----BEGIN ");
    if (begin == NULL || strlen((const char *)key->pem) != key->pem_len) {
        keys_error(error_r, table, line, "key file %s: not a PEM private key", key->path);
        return -1;
    }
    if (strncmp(begin, "-----BEGIN ENCRYPTED PRIVATE KEY-----", 37) == 0) {
        keys_error(error_r, table, line,
                   "key file %s: encrypted keys are not supported (store it unencrypted, mode 600)",
                   key->path);
        return -1;
    }
    /* keep only from the BEGIN line on: libopendkim tests for "-----" */
    if (begin != (const char *)key->pem) {
        size_t skip = (size_t)(begin - (const char *)key->pem);

        memmove(key->pem, begin, key->pem_len - skip + 1);
        OPENSSL_cleanse(key->pem + key->pem_len - skip, skip);
        key->pem_len -= skip;
    }
    bio = BIO_new_mem_buf(key->pem, (int)key->pem_len);
    if (bio == NULL) {
        keys_error(error_r, table, line, "key file %s: out of memory", key->path);
        return -1;
    }
    key->pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    BIO_free(bio);
    ERR_clear_error();
    if (key->pkey == NULL) {
        keys_error(error_r, table, line,
                   "key file %s: cannot parse (want PEM RSA, PKCS#8 RSA or PKCS#8 Ed25519)",
                   key->path);
        return -1;
    }
    id = EVP_PKEY_get_base_id(key->pkey);
    if (id == EVP_PKEY_RSA) {
        key->type = DKIM_KEY_RSA;
        key->bits = EVP_PKEY_get_bits(key->pkey);
        if (key->bits < KEYSET_MIN_RSA_BITS) {
            keys_error(error_r, table, line,
                       "key file %s: RSA key of %d bits is too small (at least %d)", key->path,
                       key->bits, KEYSET_MIN_RSA_BITS);
            return -1;
        }
    } else if (id == EVP_PKEY_ED25519) {
        key->type = DKIM_KEY_ED25519;
        key->bits = 256;
    } else {
        keys_error(error_r, table, line,
                   "key file %s: unsupported key type %s (want RSA or Ed25519)", key->path,
                   OBJ_nid2sn(id));
        return -1;
    }
    return 0;
}

/* key_wipe - release one key, wiping the secret material */
void key_wipe(struct dkim_key *key)
{
    if (key->pem != NULL)
        OPENSSL_secure_clear_free(key->pem, key->pem_len + 1);
    EVP_PKEY_free(key->pkey); /* OpenSSL clears private components on free */
    free(key->name);
    free(key->domain);
    free(key->selector);
    free(key->path);
    memset(key, 0, sizeof(*key));
}

/* key_file_load - read, check and parse the file of one KeyTable key */
int key_file_load(struct dkim_key *key, bool require_safe, uid_t owner_ok, const char *table,
                  int line, char **error_r)
{
    if (key_read_file(key, require_safe, owner_ok, table, line, error_r) < 0)
        return -1;
    return key_parse(key, table, line, error_r);
}
