import type { SipRequest } from '../sip/engine.js';
import type { ContactEntry } from './core/bindings.js';

// A REGISTER's Expires and Contact values, read into the shapes the bindings core (core/bindings.ts) takes.

export function numberOrUndefined(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  return /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
}

export function contactEntries(request: SipRequest): readonly ContactEntry[] | '*' | undefined {
  const { contacts } = request;
  if (contacts === undefined || contacts === '*') return contacts;
  return contacts.map((contact) => ({
    uri: contact.uri,
    params: Object.entries(contact.params)
      .filter(([name]) => name !== 'expires' && name !== 'q')
      .map(([name, value]) => (value === undefined ? `;${name}` : `;${name}=${value}`))
      .join(''),
    expires: numberOrUndefined(contact.params.expires),
    q: contact.params.q === undefined ? undefined : Math.min(1, Math.max(0, Number(contact.params.q) || 0)),
  }));
}
