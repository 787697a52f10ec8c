/*
 * NAME
 *	maps - Postfix-format text lookup tables
 * SYNOPSIS
 *	#include "maps.h"
 *
 *	struct map *map_open(const char *path, char **error_r);
 *	enum map_result map_lookup(const struct map *map, const char *key,
 *			const char **value_r);
 *	void	map_free(struct map **map);
 * DESCRIPTION
 *	A map is the text source of a Postfix hash: table ("key  value" per
 *	line, whitespace separated, '#' comments at line start, blank lines
 *	ignored, a line starting with whitespace continues the previous
 *	one, as postmap(1) reads them).  Keys are folded to lower case when
 *	loaded and at lookup (as postmap does by default).  A duplicate key is
 *	an error.  Lines are bounded (MAP_MAX_LINE); a NUL byte is an error.
 *	The loaded map is immutable and may be shared between threads.
 *
 *	map_lookup() returns MAP_FOUND with *value_r pointing into the map,
 *	MAP_NOTFOUND, or MAP_ERROR (never for a loaded map today, but callers
 *	must treat it as a temporary failure: a lookup has three outcomes).
 * DIAGNOSTICS
 *	map_open() returns NULL and sets *error_r to a malloc'd
 *	"path:line: reason" string the caller frees.
 */
#ifndef AM_MAPS_H
#define AM_MAPS_H

#define MAP_MAX_LINE (64 * 1024)

enum map_result { MAP_FOUND, MAP_NOTFOUND, MAP_ERROR };

struct map;

struct map *map_open(const char *path, char **error_r);
enum map_result map_lookup(const struct map *map, const char *key, const char **value_r);
void map_free(struct map **map);

#endif
