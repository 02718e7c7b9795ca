import { createHash } from "node:crypto";

/** Inline style and script of the self-contained report page (no network needed to view it). */
export const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:1.5em;color:#1d232a;background:#fafbfc}
h1{font-size:1.5em;margin:0 0 .2em}h2{font-size:1.2em;margin:1.4em 0 .5em}h3{font-size:1.05em;margin:1em 0 .3em}
.meta{color:#5b6570;margin:.2em 0 1em}
nav.views{margin:.4em 0 1em}nav.views a{margin-right:1.2em}
.filters{display:flex;gap:1em;flex-wrap:wrap;align-items:center;margin:.8em 0;padding:.6em;background:#eef1f4;border-radius:6px}
.filters label,.upgrade-choice label{font-weight:600}.filters select,.upgrade-choice select{margin-left:.3em}
.filters .shown{margin-left:auto}
table{border-collapse:collapse;background:#fff}th,td{border:1px solid #d0d7de;padding:.35em .5em;vertical-align:top}
th{background:#f1f3f5;text-align:left}
table.matrix{width:100%}table.matrix>tbody>tr>th{width:17em;font-weight:600}
table.matrix .chips{display:flex;flex-wrap:wrap;gap:.3em}
.counts{color:#5b6570;font-weight:400}
a.cell-link,button.cell-link{display:inline-block;font:inherit;cursor:pointer;color:inherit;text-decoration:none;border-radius:4px;padding:.15em .45em;border:1px solid rgba(0,0,0,.08);white-space:nowrap}
a.cell-link:hover,button.cell-link:hover{outline:2px solid #0969da}
.works{background:#d7f5dd}.reproduced{background:#ffd8d3}.refused{background:#ffc7a8}.flaky{background:#ffe9a8}.error{background:#e9d5ff}
.unavailable,.unsupported{background:#e8eaed;color:#5b6570}
.status{font-weight:700;text-transform:uppercase;font-size:.75em;letter-spacing:.04em}
.v{display:inline-block;min-width:1.4em;text-align:center;border-radius:3px;margin-left:.15em;font-size:.75em;font-weight:600}
.v.fail{background:#cf222e;color:#fff}
.sec{font-size:.7em;font-weight:700;color:#fff;background:#a4161a;border-radius:3px;padding:0 .3em;margin-left:.3em}
.fix{font-size:.9em}.fix.repaired,.fix.ok{color:#1a7f37}.fix.still-broken,.fix.regressed,.fix.error{color:#cf222e}.fix.not-applicable{color:#6e7781}.fix.partial{color:#9a6700}
table.fixes .verdicts{display:flex;gap:1.2em;flex-wrap:wrap}
details.verdict>summary{cursor:pointer;font-weight:600}details.verdict ul{margin:.2em 0;padding-left:1.2em;font-size:.9em}
.upgrade-choice{display:flex;flex-direction:column;gap:.4em;align-items:flex-start}
.upgrade-choice fieldset{display:flex;gap:1.2em;flex-wrap:wrap;align-items:center;border:1px solid #d0d7de;border-radius:6px;background:#fff;margin:0;padding:.4em .8em}
.upgrade-choice legend{font-weight:700}.upgrade-choice .arrow{font-size:1.3em;margin-left:1.5em}
.security{font-size:.9em;color:#fff;background:#a4161a;padding:.2em .5em;margin:.3em 0;border-radius:3px}
.security ul{margin:.2em 0}
section.security-first{border:2px solid #a4161a;border-radius:6px;padding:.2em 1em;background:#fff5f5}section.security-first h2{color:#a4161a}
section.problems{border:2px solid #9a6700;border-radius:6px;padding:.2em 1em;background:#fff8e6}
section.problems li{overflow-wrap:anywhere}
details.cell-detail{background:#fff;border:1px solid #d0d7de;border-radius:6px;margin:.6em 0;padding:.4em .8em}
details.cell-detail>summary{cursor:pointer;font-weight:600}
details.cell-detail:target{outline:3px solid #0969da}
pre{background:#f6f8fa;padding:.6em;overflow:auto;max-height:28em;font-size:12px;white-space:pre-wrap;overflow-wrap:anywhere}
.missing{color:#cf222e}.extra{color:#9a6700}
.kv td:first-child{font-weight:600;white-space:nowrap}
.hidden{display:none!important}
`;

/** The filters, the upgrade view (filled from the matrix's cells) and opening a linked drill-down. */
export const SCRIPT = `
const all=(selector,root)=>[...(root||document).querySelectorAll(selector)];
const filterSelects=all('.filters select');
function applyFilters(){
  const want=Object.fromEntries(filterSelects.map(s=>[s.name,s.value]));
  const match=(el,keys)=>keys.every(k=>!want[k]||el.dataset[k]===want[k]);
  let shown=0;
  all('tr[data-row]').forEach(tr=>{
    const rowOk=match(tr,['engine','iptables','backend','daemon']);
    let visible=0;
    all('[data-cell]',tr).forEach(a=>{const ok=rowOk&&match(a,['scenario','status']);a.classList.toggle('hidden',!ok);if(ok)visible++;});
    tr.classList.toggle('hidden',visible===0);
    shown+=visible;
  });
  all('details.cell-detail').forEach(d=>d.classList.toggle('hidden',!match(d,['engine','iptables','backend','scenario','daemon','status'])));
  const count=document.getElementById('shown-count');if(count)count.textContent=String(shown);
}
filterSelects.forEach(s=>s.addEventListener('change',applyFilters));

const DIMENSIONS=['engine','iptables','backend','daemon'];
const cells=all('table.matrix [data-cell]').map(el=>({el,d:el.dataset,verdict:JSON.parse(el.dataset.verdict)}));
const sameCase=c=>[c.d.scenario,c.d.topology,c.d.provider].join(' · ');
const chosen=side=>Object.fromEntries(DIMENSIONS.map(k=>[k,document.querySelector('#upgrade-view select[name="'+side+'-'+k+'"]').value]));
function changes(a,b){
  const lines=[];
  if(a.status!==b.status)lines.push('status '+a.status+' → '+b.status);
  for(const part of ['vantages','fixes']){
    const keys=[...new Set([...Object.keys(a[part]),...Object.keys(b[part])])].sort();
    for(const k of keys)if(a[part][k]!==b[part][k])lines.push((part==='fixes'?'fix ':'')+k+' '+(a[part][k]||'-')+' → '+(b[part][k]||'-'));
  }
  return lines;
}
function cellLink(c){
  if(!c)return document.createTextNode('not run');
  const go=document.createElement('button');go.type='button';go.className='cell-link '+c.d.status;go.textContent=c.d.status;go.title='open the cell';
  go.addEventListener('click',()=>{location.hash=c.el.getAttribute('href');});
  return go;
}
function td(content){const cell=document.createElement('td');cell.append(content);return cell;}
function applyUpgrade(){
  const view=document.getElementById('upgrade-view');if(!view)return;
  const current=chosen('current'),candidate=chosen('candidate');
  const on=want=>new Map(cells.filter(c=>DIMENSIONS.every(k=>c.d[k]===want[k])).map(c=>[sameCase(c),c]));
  const before=on(current),after=on(candidate);
  const body=view.querySelector('tbody');body.replaceChildren();
  let both=0,differ=0,oneSide=0;
  for(const key of [...new Set([...before.keys(),...after.keys()])].sort()){
    const a=before.get(key),b=after.get(key);
    let lines;
    if(a&&b){both++;lines=changes(a.verdict,b.verdict);if(lines.length)differ++;}
    else{oneSide++;lines=[a?'not run on the candidate':'not run on the current'];}
    if(!lines.length)continue;
    const row=document.createElement('tr');row.dataset.differs=a&&b?'yes':'one-side';
    const c=a||b;
    row.append(td(c.d.scenario),td(c.d.topology+' · '+c.d.provider),td(cellLink(a)),td(cellLink(b)),td(lines.join('; ')));
    body.append(row);
  }
  if(!body.children.length){const row=document.createElement('tr');const cell=td('no differences');cell.colSpan=5;row.append(cell);body.append(row);}
  document.getElementById('upgrade-summary').textContent=both+' cell(s) ran on both: '+differ+' differ, '+(both-differ)+' the same'+(oneSide?'; '+oneSide+' ran on one side only':'')+'.';
}
all('#upgrade-view select').forEach(s=>s.addEventListener('change',applyUpgrade));
applyUpgrade();

function openTarget(){const d=document.getElementById(decodeURIComponent(location.hash.slice(1)));if(d&&d.tagName==='DETAILS')d.open=true;}
window.addEventListener('hashchange',openTarget);openTarget();
`;

const sha256 = (text: string) => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;

/**
 * Only the page's own style and script run (by their hashes): no inline script or handler that
 * data might carry, no external resource, no form, no base URL.
 */
export const CONTENT_SECURITY_POLICY = `default-src 'none'; style-src ${sha256(STYLE)}; script-src ${sha256(SCRIPT)}; img-src 'none'; base-uri 'none'; form-action 'none'`;
