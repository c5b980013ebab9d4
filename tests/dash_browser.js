// dash_browser.js - drives headless Chromium (playwright-core, Debian's
// /usr/bin/chromium) on the dashboard while tests/dash_browser_host.c runs
// computes: prints "ready" once the page is live, then watches the progress
// fill until compute <computes> shows 100%, prints what the page shows
// ("result ...") and takes a screenshot into <outdir>/dashboard.png.
// usage: node dash_browser.js URL OUTDIR COMPUTES
"use strict";
const { chromium } = require("playwright-core");

(async () => {
  const [url, outdir, computes] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: process.env.WEFT_CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  const page = await browser.newPage({ viewport: { width: 1200, height: 820 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(url);
  await page.waitForFunction(() => document.getElementById("conn").textContent === "live", null, { timeout: 20000 });
  console.log("ready");
  // progress between 0 and 100 seen at least once: it fills while it runs
  let partial = 0;
  const want = String(computes);
  const deadline = Date.now() + 60000;
  for (;;) {
    const s = await page.evaluate(() => ({
      id: document.getElementById("cur-id").textContent,
      pct: Number(document.getElementById("cur-pct").textContent),
      state: document.getElementById("cur-state").textContent,
    }));
    if (s.pct > 0 && s.pct < 100) partial++;
    if (s.id === want && s.pct === 100 && s.state.startsWith("finished")) break;
    if (Date.now() > deadline) throw new Error("the page never showed compute " + want + " at 100%: " + JSON.stringify(s));
    await page.waitForTimeout(40);
  }
  await page.waitForTimeout(300); // the last bars drawn
  const r = await page.evaluate(() => {
    const fns = {};
    for (const tr of document.querySelectorAll("#progress tbody tr"))
      fns[tr.dataset.fn] = Number(tr.querySelector(".fdone").textContent);
    return {
      done: Number(document.getElementById("cur-done").textContent),
      ntasks: Number(document.getElementById("cur-ntasks").textContent),
      failed: Number(document.getElementById("cur-failed").textContent),
      bars: Number(document.getElementById("stream").dataset.bars),
      computes: document.querySelectorAll("#computes span").length,
      workers: document.querySelectorAll("#workers tbody tr").length,
      graph: document.querySelectorAll("#graph tbody tr").length,
      fns,
    };
  });
  await page.screenshot({ path: outdir + "/dashboard.png" });
  if (errors.length) throw new Error("errors in the page: " + errors.join("; "));
  console.log("result done=" + r.done + " ntasks=" + r.ntasks + " failed=" + r.failed + " bars=" + r.bars +
    " computes=" + r.computes + " workers=" + r.workers + " graph=" + r.graph +
    " inc=" + (r.fns.inc ?? -1) + " pair=" + (r.fns.pair ?? -1) + " partial=" + partial);
  await browser.close();
})().catch((e) => {
  console.error("dash_browser.js: " + (e && e.stack ? e.stack : e));
  process.exit(1);
});
