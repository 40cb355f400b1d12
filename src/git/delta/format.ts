/**
 * Constants of the delta instruction stream (gitformat-pack, "Deltified representation"):
 * a header of two little-endian base-128 sizes (base, result), then instructions.
 *  - copy: opcode with the high bit set; bits 0-3 select which of 4 little-endian offset
 *    bytes follow, bits 4-6 which of 3 size bytes; a size of 0 means 0x10000.
 *  - insert: opcode 1..127 is the number of literal bytes that follow.
 *  - opcode 0 is reserved.
 */
export const COPY_OPCODE = 0x80;
/** The size a copy with no size bytes stands for. */
export const COPY_ZERO_SIZE = 0x10000;
/** Three size bytes: the longest single copy instruction. */
export const MAX_COPY_SIZE = 0xffffff;
/** Four offset bytes: copies can only address the first 4 GiB of a base. */
export const MAX_COPY_OFFSET = 0xffffffff;
export const MAX_INSERT_SIZE = 0x7f;
/** Opcode byte, four offset bytes, three size bytes. */
export const MAX_COPY_INSTRUCTION_BYTES = 8;
/** A base-128 size never needs more than this for sizes below 2^56. */
export const MAX_SIZE_VARINT_BYTES = 8;
