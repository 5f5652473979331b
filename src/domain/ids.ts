// Resource identifiers: a type prefix and 24 base62 characters (about 143 bits),
// as the contract's id patterns say.
import { randomIdentifier } from '../crypto/random.ts';

export type IdPrefix = 'wf' | 'run' | 'conn' | 'evt' | 'key' | 'aud' | 'cli' | 'usr' | 'acct' | 'proj' | 'req' | 'sess';

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${randomIdentifier(24)}`;
}
