/*
 * NAME
 *	keys_int - key file loading, shared by the keys files (internal to keys)
 * SYNOPSIS
 *	#include "keys_int.h"
 *
 *	void	keys_error(char **error_r, const char *file, int line,
 *			const char *fmt, ...);
 *	int	key_file_load(struct dkim_key *key, bool require_safe, uid_t owner_ok,
 *			const char *table, int line, char **error_r);
 *	void	key_wipe(struct dkim_key *key);
 * DESCRIPTION
 *	Internal to keys: only milter/keys.c (the tables, matching, keyset
 *	lifetime) and milter/keys_file.c (one key file) include it.
 *
 *	keys_error() sets *error_r (when not NULL) to a malloc'd
 *	"file:line: reason", or "file: reason" when line is 0.
 *
 *	key_file_load() reads key->path with the safety checks (regular
 *	file, size bounds and, with require_safe, mode and owner), keeps the
 *	PEM text from its BEGIN line on in key->pem, parses it into
 *	key->pkey and sets key->type and key->bits.  table and line name the
 *	KeyTable line for the error.  It returns 0, or -1 with *error_r set;
 *	either way the key is the caller's to release with key_wipe().
 *
 *	key_wipe() frees every field of the key, wiping the PEM text and
 *	the parsed key, and zeroes the struct.
 */
#ifndef AM_KEYS_INT_H
#define AM_KEYS_INT_H

#include <stdbool.h>
#include <sys/types.h>

#include "keys.h"

void __attribute__((format(printf, 4, 5)))
keys_error(char **error_r, const char *file, int line, const char *fmt, ...);
int key_file_load(struct dkim_key *key, bool require_safe, uid_t owner_ok, const char *table,
                  int line, char **error_r);
void key_wipe(struct dkim_key *key);

#endif
