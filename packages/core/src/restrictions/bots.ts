/**
 * Common bots, crawlers, scrapers, scanners and scripting clients, denied by `userAgents: { denyBots: true }`. Each
 * entry is a case-insensitive substring of the user agent, or, with a `*`, a glob over the whole of it (`node*`: the
 * user agent starts with `node`, as Node's own `fetch()` sends). Generic words such as `bot` are deliberately absent:
 * they would also match real browsers and devices.
 */
export const BOT_USER_AGENTS: readonly string[] = [
  // command-line tools and HTTP libraries
  'curl/', 'wget/', 'httpie/', 'python-requests', 'python-urllib', 'python-httpx', 'aiohttp/', 'urllib3/',
  'go-http-client', 'java/', 'okhttp', 'apache-httpclient', 'jakarta commons-httpclient', 'libwww-perl', 'lwp::simple',
  'guzzlehttp', 'node-fetch', 'axios/', 'undici', 'got (https://github.com/sindresorhus/got)', 'ruby', 'faraday',
  'rest-client', 'postmanruntime', 'insomnia/', 'windowspowershell', 'powershell/', 'libcurl', 'winhttp',
  'dart:io', 'reqwest/', 'hackney/', 'http.rb/', 'mechanize', 'phpcrawl', 'zgrab', 'masscan', 'nmap',
  'restsharp/', 'typhoeus', 'fasthttp', 'apachebench/', 'k6/*',
  // JavaScript runtimes' own fetch(): Node sends just "node"
  'node*', 'deno/*', 'bun/*',
  // vulnerability scanners and content discovery
  'sqlmap/', 'nikto', 'nuclei', 'wpscan', 'gobuster/', 'dirbuster',
  // scrapers and headless browsers
  'scrapy', 'headlesschrome', 'phantomjs', 'selenium', 'puppeteer', 'playwright', 'httrack', 'colly',
  // crawlers
  'googlebot', 'bingbot', 'yandexbot', 'baiduspider', 'duckduckbot', 'slurp', 'sogou web spider', 'exabot', 'applebot',
  'ahrefsbot', 'semrushbot', 'mj12bot', 'dotbot', 'petalbot', 'bytespider', 'gptbot', 'ccbot', 'claudebot',
  'anthropic-ai', 'perplexitybot', 'amazonbot', 'facebookexternalhit', 'twitterbot', 'linkedinbot',
  'dataforseobot', 'blexbot', 'seznambot', 'megaindex', 'serpstatbot', 'screaming frog',
];
