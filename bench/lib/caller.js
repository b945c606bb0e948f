'use strict';
/**
 * What a bench server answers as the caller when it has no keyward principal to name: a stand-in as long as a keyward
 * key id (`key_` and 16 characters), so every server of a scenario sends a body of the same size. With `'anonymous'`,
 * 11 bytes shorter, the bare and floor servers sent smaller bodies than keyward's, and bare Express hashed one SHA-1
 * block fewer for its ETag (a 55-byte body fits one block, a 66-byte one needs two).
 */
const STAND_IN_CALLER = 'key_0000000000000000';

module.exports = { STAND_IN_CALLER };
