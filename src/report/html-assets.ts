/** Inline style and script of the self-contained report page (no network needed to view it). */
export const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:1.5em;color:#1d232a;background:#fafbfc}
h1{font-size:1.5em;margin:0 0 .2em}h2{font-size:1.2em;margin:1.6em 0 .5em}h3{font-size:1.05em;margin:1em 0 .3em}
.meta{color:#5b6570;margin-bottom:1em}
.filters{display:flex;gap:1em;flex-wrap:wrap;margin:.8em 0;padding:.6em;background:#eef1f4;border-radius:6px}
.filters label{font-weight:600}.filters select{margin-left:.3em}
table{border-collapse:collapse;background:#fff}th,td{border:1px solid #d0d7de;padding:.35em .5em;vertical-align:top}
th{background:#f1f3f5;text-align:left}
table.matrix td.cell{min-width:12em}
a.cell-link{display:block;color:inherit;text-decoration:none;border-radius:4px;padding:.2em .3em}
.works{background:#d7f5dd}.reproduced{background:#ffd8d3}.refused{background:#ffc7a8}.flaky{background:#ffe9a8}.error{background:#e9d5ff}
.unavailable,.unsupported{background:#e8eaed;color:#5b6570}
.status{font-weight:700;text-transform:uppercase;font-size:.8em;letter-spacing:.04em}
.v{display:inline-block;min-width:1.6em;text-align:center;border-radius:3px;margin:.1em .1em 0 0;font-size:.8em;font-weight:600}
.v.pass{background:#2da44e;color:#fff}.v.fail{background:#cf222e;color:#fff}
.fix{font-size:.8em;display:block}.fix.repaired{color:#1a7f37}.fix.still-broken,.fix.regressed{color:#cf222e}.fix.not-applicable{color:#6e7781}.fix.partial{color:#9a6700}
.why{font-size:.8em;color:#4b535c;margin-top:.2em}
.security{font-size:.85em;color:#fff;background:#a4161a;padding:.2em .4em;margin:.2em 0;border-radius:3px}
.security ul{margin:.2em 0}
details.cell-detail{background:#fff;border:1px solid #d0d7de;border-radius:6px;margin:.6em 0;padding:.4em .8em}
details.cell-detail>summary{cursor:pointer;font-weight:600}
details.cell-detail:target{outline:3px solid #0969da}
pre{background:#f6f8fa;padding:.6em;overflow:auto;max-height:28em;font-size:12px}
.missing{color:#cf222e}.extra{color:#9a6700}
.kv td:first-child{font-weight:600;white-space:nowrap}
.hidden{display:none}
`;

/** Row and column filters; cells are matched by data attributes rendered into the table. */
export const SCRIPT = `
const selects=[...document.querySelectorAll('.filters select')];
function apply(){
  const want=Object.fromEntries(selects.map(s=>[s.name,s.value]));
  document.querySelectorAll('[data-row]').forEach(tr=>{
    const ok=['engine','iptables','backend'].every(k=>!want[k]||tr.dataset[k]===want[k]);
    tr.classList.toggle('hidden',!ok);
  });
  document.querySelectorAll('[data-col]').forEach(el=>{
    const ok=['scenario','daemon'].every(k=>!want[k]||el.dataset[k]===want[k]);
    el.classList.toggle('hidden',!ok);
  });
  document.querySelectorAll('td.cell').forEach(td=>{
    const dim=want.status&&td.dataset.status!==want.status;
    td.style.opacity=dim?'0.25':'';
  });
  document.querySelectorAll('details.cell-detail').forEach(d=>{
    const ok=['engine','iptables','backend','scenario','daemon','status'].every(k=>!want[k]||d.dataset[k]===want[k]);
    d.classList.toggle('hidden',!ok);
  });
}
selects.forEach(s=>s.addEventListener('change',apply));
function openTarget(){const d=document.getElementById(decodeURIComponent(location.hash.slice(1)));if(d&&d.tagName==='DETAILS')d.open=true;}
window.addEventListener('hashchange',openTarget);openTarget();
`;
