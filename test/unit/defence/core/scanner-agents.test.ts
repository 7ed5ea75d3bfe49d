import { describe, expect, it } from 'vitest';
import { DEFAULT_SCANNER_AGENTS, scannerMatcher } from '../../../../src/defence/core/scanner-agents.js';

describe('scannerMatcher', () => {
  const match = scannerMatcher(DEFAULT_SCANNER_AGENTS);

  it("names the scanner in sipvicious's and others' User-Agents, in any case", () => {
    expect(match('friendly-scanner')).toBe('friendly-scanner');
    expect(match('SIPVicious 0.3.4')).toBe('sipvicious');
    expect(match('sipcli/v1.8')).toBe('sipcli');
  });

  it('lets phones and an absent header through', () => {
    expect(match('baresip v1.0.0 (x86_64/linux)')).toBeUndefined();
    expect(match('Linphone/5.1.65 (belle-sip/5.1.55)')).toBeUndefined();
    expect(match(undefined)).toBeUndefined();
  });

  it('matches nothing with an empty list', () => {
    expect(scannerMatcher([])('friendly-scanner')).toBeUndefined();
  });
});
