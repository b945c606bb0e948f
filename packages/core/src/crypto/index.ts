export { createEncryption, checkEncryption, type Encryption, type EncryptionOptions, type MasterKey } from './encryption';
export { parseMasterKeys, encryptionFromEnv } from './master-keys';
export { DEFAULT_SEALED_FIELDS, NEVER_SEALED_FIELDS, fieldAad, sealField, openField, openListedField, isUnreadable, resolveSealedFields } from './fields';
