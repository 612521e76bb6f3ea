// The review queue without page reloads: every action is a plain form that this file sends with fetch().
// Keyboard: j/k move, a approve, s spam, d trash, u undo the last action, x select.
"use strict";

const csrf = document.querySelector('meta[name="csrf-token"]').content;
const undoStack = [];
let current = null;

function rows() { return Array.from(document.querySelectorAll("li.comment")); }

function toast(text) {
  const box = document.getElementById("toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 4000);
}

function setCounts(counts) {
  for (const [status, count] of Object.entries(counts || {})) {
    const badge = document.querySelector(`[data-count="${status}"]`);
    if (badge) badge.textContent = count;
  }
}

async function send(url, fields) {
  const body = new FormData();
  body.append("csrf_token", csrf);
  for (const [name, value] of fields || []) body.append(name, value);
  const response = await fetch(url, { method: "POST", body, headers: { Accept: "application/json", "X-CSRF-Token": csrf } });
  if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
  return response.json();
}

function removeRow(row) {
  const next = row.nextElementSibling || row.previousElementSibling;
  row.remove();
  if (current === row) select(next && next.classList.contains("comment") ? next : null);
}

function select(row) {
  if (current) current.classList.remove("current");
  current = row;
  if (row) {
    row.classList.add("current");
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }
}

async function act(button) {
  const row = button.closest("li.comment");
  try {
    const result = await send(button.getAttribute("formaction"));
    undoStack.push([{ id: result.id, status: result.from }]);
    setCounts(result.counts);
    if (result.to !== row.dataset.status) removeRow(row);
    toast(`Comment ${result.id}: ${result.from} → ${result.to}. Press u to undo.`);
  } catch (error) { toast(`That did not work: ${error.message}`); }
}

async function bulk(form) {
  const ids = Array.from(form.querySelectorAll('input[name="ids"]:checked')).map((box) => box.value);
  if (!ids.length) { toast("Select some comments first (x)."); return; }
  const action = form.querySelector('select[name="action"]').value;
  try {
    const result = await send(form.getAttribute("action"), [["action", action], ...ids.map((id) => ["ids", id])]);
    const moved = result.results.filter((item) => item.to);
    undoStack.push(moved.map((item) => ({ id: item.id, status: item.from })));
    for (const item of moved) {
      const row = document.getElementById(`c${item.id}`);
      if (row && item.to !== row.dataset.status) removeRow(row);
    }
    setCounts(result.counts);
    toast(`${moved.length} comments: ${action}. Press u to undo.`);
  } catch (error) { toast(`That did not work: ${error.message}`); }
}

async function undo() {
  const last = undoStack.pop();
  if (!last) { toast("Nothing to undo."); return; }
  try {
    for (const item of last) await send(`/admin/comments/${item.id}/move`, [["status", item.status]]);
    window.location.reload();
  } catch (error) { toast(`Undo did not work: ${error.message}`); }
}

async function remove(link) {
  if (!window.confirm(`Delete comment ${link.dataset.id} for ever? This cannot be undone.`)) return;
  try {
    const result = await send(link.href);
    setCounts(result.counts);
    removeRow(link.closest("li.comment"));
    toast(`Comment ${result.id} deleted for ever.`);
  } catch (error) { toast(`That did not work: ${error.message}`); }
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button.act");
  const link = event.target.closest("a.delete");
  if (button) { event.preventDefault(); act(button); }
  else if (link) { event.preventDefault(); remove(link); }
  else if (event.target.closest("button[name='bulk']")) { event.preventDefault(); bulk(document.getElementById("bulk")); }
  else if (event.target.closest("li.comment") && !event.target.closest("a, button, input, textarea, summary")) {
    select(event.target.closest("li.comment"));
  }
});

const selectAll = document.getElementById("select-all");
if (selectAll) {
  selectAll.addEventListener("change", () => {
    for (const box of document.querySelectorAll('input[name="ids"]')) box.checked = selectAll.checked;
  });
}

const KEYS = { a: ["approve", "ham", "restore"], s: ["spam"], d: ["trash"] };

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || event.target.closest("input, textarea, select")) return;
  const list = rows();
  const index = list.indexOf(current);
  if (event.key === "j") select(list[Math.min(index + 1, list.length - 1)] || null);
  else if (event.key === "k") select(list[Math.max(index - 1, 0)] || null);
  else if (event.key === "x" && current) {
    const box = current.querySelector('input[name="ids"]');
    box.checked = !box.checked;
  } else if (event.key === "u") undo();
  else if (KEYS[event.key] && current) {
    const button = KEYS[event.key].map((name) => current.querySelector(`button[data-action="${name}"]`)).find(Boolean);
    if (button) act(button);
  } else return;
  event.preventDefault();
});

if (rows().length) select(rows()[0]);
