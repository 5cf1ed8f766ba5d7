// ps_parse.js - parse PowerShell files with tree-sitter-powershell (through
// web-tree-sitter and the grammar's wasm) and fail on any ERROR or MISSING
// node.  Usage: node ps_parse.js MODULES_DIR FILE...  (MODULES_DIR holds
// node_modules/web-tree-sitter and node_modules/tree-sitter-powershell).
'use strict';
const fs = require('fs');
const path = require('path');
const prefix = path.resolve(process.argv[2]);
const req = require('module').createRequire(path.join(prefix, 'ps_parse.js'));
const TS = req('web-tree-sitter');

(async () => {
  const Parser = TS.Parser || TS;
  await Parser.init();
  const Language = TS.Language || Parser.Language;
  const ps = await Language.load(path.join(prefix, 'node_modules', 'tree-sitter-powershell', 'tree-sitter-powershell.wasm'));
  const parser = new Parser();
  parser.setLanguage(ps);
  let bad = 0;
  for (const f of process.argv.slice(3)) {
    const src = fs.readFileSync(f, 'utf8').replace(/^\uFEFF/, '');
    const tree = parser.parse(src);
    const stack = [tree.rootNode];
    let nodes = 0;
    while (stack.length) {
      const n = stack.pop();
      nodes++;
      if (n.type === 'ERROR' || n.isMissing) {
        bad++;
        console.log(`${f}:${n.startPosition.row + 1}:${n.startPosition.column + 1}: ` +
                    `${n.isMissing ? 'MISSING ' + n.type : 'ERROR'}: ` +
                    src.slice(n.startIndex, n.startIndex + 80).split('\n')[0]);
      }
      for (let i = n.childCount - 1; i >= 0; i--) stack.push(n.child(i));
    }
    console.log(`${f}: ${nodes} nodes`);
  }
  process.exit(bad ? 1 : 0);
})().catch((e) => { console.error(e); process.exit(2); });
