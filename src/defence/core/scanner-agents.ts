/**
 * The User-Agents of SIP scanners (sipvicious's svmap/svwar/svcrack send
 * `friendly-scanner`, newer ones `sipvicious`; sipcli, VaxSIPUserAgent,
 * sundayddr, SIPScan, iWar and PortSIP's test tool are the other common
 * ones in honeypot logs). Matched case-insensitively anywhere in the header.
 */
export const DEFAULT_SCANNER_AGENTS = [
  'friendly-scanner',
  'sipvicious',
  'sipcli',
  'VaxSIPUserAgent',
  'sundayddr',
  'SIPScan',
  'iWar',
  'sip-scan',
  'smap',
  'pplsip',
] as const;

/** The listed agent a User-Agent header names, if any. */
export function scannerMatcher(agents: readonly string[]): (userAgent: string | undefined) => string | undefined {
  const lowered = agents.map((agent) => [agent, agent.toLowerCase()] as const);
  return (userAgent) => {
    if (userAgent === undefined || lowered.length === 0) return undefined;
    const text = userAgent.toLowerCase();
    return lowered.find(([, agent]) => text.includes(agent))?.[0];
  };
}
