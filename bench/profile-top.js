const p = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8'));
const byId = new Map(p.nodes.map(n => [n.id, n]));
const self = new Map();
const dt = p.timeDeltas; let total = 0;
p.samples.forEach((id, i) => { const d = dt[i] || 0; total += d; self.set(id, (self.get(id) || 0) + d); });
// self by function
const fn = new Map();
for (const [id, t] of self) { const n = byId.get(id); const k = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/.*node_modules\//,'nm/').replace('/work/main/','')}:${n.callFrame.lineNumber}`; fn.set(k, (fn.get(k) || 0) + t); }
console.log('total ms', (total/1000).toFixed(0));
[...fn].sort((a,b)=>b[1]-a[1]).slice(0, 25).forEach(([k,t]) => console.log((t/total*100).toFixed(1)+'%', k));
// inclusive per function
const parent = new Map(); for (const n of p.nodes) for (const c of n.children || []) parent.set(c, n.id);
const incl = new Map();
for (const [id, t] of self) { const seen = new Set(); let cur = id; while (cur !== undefined) { const n = byId.get(cur); const k = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/.*node_modules\//,'nm/').replace('/work/main/','')}:${n.callFrame.lineNumber}`; if (!seen.has(k)) { seen.add(k); incl.set(k, (incl.get(k) || 0) + t); } cur = parent.get(cur); } }
console.log('--- inclusive');
[...incl].sort((a,b)=>b[1]-a[1]).filter(([k]) => /keyward|packages|core|nest/.test(k)).slice(0, 30).forEach(([k,t]) => console.log((t/total*100).toFixed(1)+'%', k));
