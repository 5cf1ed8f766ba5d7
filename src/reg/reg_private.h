/*
 * reg_private.h - helpers shared by the files of src/reg/ only (base block
 * layout and checksum); not part of the public API.
 */
#ifndef REG_PRIVATE_H
#define REG_PRIVATE_H

#ifndef WS_REG_INTERNAL
#error "reg_private.h is private to src/reg/ (its files and tests define WS_REG_INTERNAL)"
#endif

#include <stddef.h>
#include <stdint.h>

#include "reg/reg.h"

#define REG_BASE_BLOCK_SIZE 4096
#define REG_HBIN_SIZE 4096

/* XOR of the first 127 dwords of a base block. */
uint32_t reg_base_checksum(const unsigned char *base);

/* Store the checksum at offset 508, first moving the timestamp if the sum
 * is one of the two values Windows and hivex disagree on (0, ~0). */
void reg_base_seal(unsigned char *base);

/* Validate a base block (signature, checksum, major 1) and decode it. */
int reg_base_parse(const unsigned char *base, size_t len, const char *path,
		   struct reg_hive_info *info, struct ws_error *err);

#endif
