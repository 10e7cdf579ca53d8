// Runs inside Chromium (not Node): renders the Mermaid blocks of a rendered comment and reports
// what a reader would see. Plain JS so the project's typecheck needs no DOM types.

let chartCount = 0;

/** Show a rendered comment body; innerHTML runs no script, as GitHub's sanitizer would not. */
window.evalbotShow = (html) => {
  document.querySelector('#comment-body').innerHTML = html;
};

window.evalbotRenderMermaid = async () => {
  window.mermaid.initialize({ startOnLoad: false, securityLevel: 'strict', theme: 'default' });
  const blocks = [...document.querySelectorAll('pre > code.language-mermaid')];
  const results = [];
  for (const code of blocks) {
    chartCount += 1;
    const source = code.textContent ?? '';
    try {
      await window.mermaid.parse(source);
      const { svg } = await window.mermaid.render(`evalbot-chart-${chartCount}`, source);
      const holder = document.createElement('div');
      holder.className = 'mermaid-chart';
      holder.innerHTML = svg;
      code.parentElement.replaceWith(holder);
      const rendered = holder.querySelector('svg');
      results.push({
        ok: rendered !== null && !/syntax error/i.test(holder.textContent ?? ''),
        lines: holder.querySelectorAll('path').length,
        error: null,
      });
    } catch (error) {
      results.push({ ok: false, lines: 0, error: String(error?.message ?? error) });
    }
  }
  return results;
};

window.evalbotInspect = () => {
  const root = document.querySelector('#comment-body');
  const tables = [...root.querySelectorAll('table')].map((table) => ({
    header: [...table.querySelectorAll('thead th')].map((th) => (th.textContent ?? '').trim()),
    rowCellCounts: [...table.querySelectorAll('tbody tr')].map((tr) => tr.children.length),
    rows: [...table.querySelectorAll('tbody tr')].map((tr) =>
      [...tr.children].map((cell) => (cell.textContent ?? '').trim()),
    ),
  }));
  const details = [...root.querySelectorAll('details')].map((d) => ({
    summary:
      d.firstElementChild?.tagName === 'SUMMARY' ? (d.firstElementChild.textContent ?? '').trim() : null,
    nested: d.parentElement?.closest('details') !== null,
    open: d.open,
  }));
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_COMMENT);
  const comments = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    comments.push({
      text: node.nodeValue.trim().slice(0, 40),
      insideDetails: node.parentElement?.closest('details') !== null,
    });
  }
  const footer = [...root.querySelectorAll('sub')].pop();
  const topLevel = [...root.children];
  const lastDetails = topLevel.filter((el) => el.tagName === 'DETAILS').pop();
  return {
    tables,
    details,
    comments,
    footer: footer
      ? { text: (footer.textContent ?? '').trim(), insideDetails: footer.closest('details') !== null }
      : null,
    topLevelAfterLastDetails: lastDetails
      ? topLevel.slice(topLevel.indexOf(lastDetails) + 1).map((el) => el.tagName)
      : [],
    scripts: root.querySelectorAll('script').length,
    codeBlocks: [...root.querySelectorAll('pre > code')].map((c) => c.textContent ?? ''),
  };
};
