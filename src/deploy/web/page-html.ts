/**
 * The demo page's HTML, kept in a module rather than a .html file so it ships inside the compiled
 * package (tsc copies only scripts into dist/).
 */
export const DEMO_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>alembic demo</title>
<link rel="icon" href="data:,">
<style>
  body { font: 16px/1.5 system-ui, sans-serif; margin: 0; background: #f6f6f3; color: #222; }
  main { max-width: 42rem; margin: 2rem auto; padding: 0 1rem; }
  h1 { font-size: 1.4rem; margin-bottom: .2rem; }
  .note { color: #666; font-size: .9rem; margin-top: 0; }
  textarea { width: 100%; box-sizing: border-box; min-height: 5rem; font: inherit; padding: .5rem; }
  button { font: inherit; padding: .3rem 1.2rem; margin-top: .5rem; }
  #status[data-state="error"] { color: #b00; }
  #result { background: #fff; border: 1px solid #ddd; padding: .8rem 1rem; margin-top: 1rem; }
  #label { font-size: 1.3rem; }
  #probs td { padding: .1rem .8rem .1rem 0; font-variant-numeric: tabular-nums; }
  meter { width: 12rem; }
</style>
</head>
<body>
<main>
  <h1>alembic demo</h1>
  <p class="note">The model runs in this browser (onnxruntime-web, WebAssembly); your text is not sent anywhere.</p>
  <label>Model <select id="model"></select></label>
  <p id="about" class="note"></p>
  <textarea id="text" placeholder="Type a text to classify (Ctrl+Enter)"></textarea>
  <textarea id="text-b" placeholder="Second text of the pair" hidden></textarea>
  <button id="classify" disabled>Classify</button>
  <p id="status" data-state="loading">loading…</p>
  <div id="result" hidden>
    <div>Prediction: <strong id="label"></strong></div>
    <table id="probs"></table>
  </div>
</main>
<script type="module" src="app.js"></script>
</body>
</html>
`;
