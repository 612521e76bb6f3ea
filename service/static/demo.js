// The demo post's script, as a site's own would be. Without it the form still posts and comes back.
// With it: a signed form token in the field the service names, and the author's own comment, shown
// while it waits ("Your comment is awaiting moderation") and editable or deletable for as long as the
// service allows, with the author_token of the 202 (kept in sessionStorage, never in a cookie).
const form = document.getElementById("commentform");
const thread = document.getElementById("comments");
const ownKey = `comments:own:${form.elements.post_id.value}`;

fetch("/form-token").then((response) => response.json()).then((token) => {
  const field = form.querySelector('[name="form_token"]');
  field.name = token.field;
  field.value = token.token;
});

const owned = () => JSON.parse(sessionStorage.getItem(ownKey) || "{}");

function remember(id, token) {
  const all = owned();
  if (token) all[id] = token; else delete all[id];
  sessionStorage.setItem(ownKey, JSON.stringify(all));
}

function request(method, id, body) {
  const headers = {Accept: "application/json", Authorization: `Bearer ${owned()[id]}`};
  if (body) headers["Content-Type"] = "application/json";
  return fetch(`/comments/${id}`, {method, headers, body: body && JSON.stringify(body)});
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
}

function showErrors(place, errors) {
  place.querySelector(".errors")?.remove();
  const list = element("ul", "errors");
  for (const sentence of Object.values(errors || {error: "Something went wrong; try again."})) {
    list.append(element("li", "", sentence));
  }
  place.append(list);
}

// The comment as the service shows it to its author. Its content is HTML sanitized by the service,
// which the server-rendered thread also inserts as it is.
function render(view) {
  const id = `comment-${view.id}`;
  let article = document.getElementById(id);
  if (!article) {
    article = element("article", "comment own");
    article.id = id;
    const header = element("header", "", view.comment.author);
    article.append(header, element("div", "content"));
    thread.append(article);
  }
  article.querySelector(".notice")?.remove();
  if (view.status !== "approved") {
    article.querySelector("header").after(element("p", "notice", "Your comment is awaiting moderation."));
  }
  article.querySelector(".content").innerHTML = view.comment.content;
  controls(article, view);
}

function controls(article, view) {
  article.querySelector(".own-actions")?.remove();
  if (!(Date.parse(view.editable_until) > Date.now())) return;
  const actions = element("p", "own-actions");
  const edit = element("button", "edit", "Edit");
  const remove = element("button", "delete", "Delete");
  edit.type = remove.type = "button";
  edit.addEventListener("click", () => editor(article, view));
  remove.addEventListener("click", async () => {
    const response = await request("DELETE", view.id);
    if (response.status === 204 || response.status === 404) {
      remember(view.id, null);
      article.remove();
    } else {
      showErrors(actions, (await response.json()).errors);
    }
  });
  actions.append(edit, " ", remove);
  article.append(actions);
}

function editor(article, view) {
  const actions = article.querySelector(".own-actions");
  const box = element("textarea", "edit-text");
  box.value = view.comment.content;
  box.rows = 6;
  const save = element("button", "save", "Save");
  const cancel = element("button", "cancel", "Cancel");
  save.type = cancel.type = "button";
  save.addEventListener("click", async () => {
    const response = await request("PUT", view.id, {comment: box.value});
    const body = await response.json();
    if (response.ok) render(body); else showErrors(actions, body.errors || {error: body.error});
  });
  cancel.addEventListener("click", () => controls(article, view));
  actions.replaceChildren(box, save, " ", cancel);
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const response = await fetch(form.action, {
    method: "POST",
    headers: {"Content-Type": "application/json", Accept: "application/json"},
    body: JSON.stringify(Object.fromEntries(new FormData(form))),
  });
  const body = await response.json();
  if (response.status !== 202) {
    showErrors(form, body.errors || {error: body.error});
    return;
  }
  form.querySelector(".errors")?.remove();
  form.elements.comment.value = "";
  if (body.author_token) remember(body.id, body.author_token);
  render(body);
});

// Back on the page: the author's comments of this post that the service still shows them.
for (const id of Object.keys(owned())) {
  request("GET", id).then(async (response) => {
    if (response.ok) render(await response.json()); else remember(id, null);
  });
}
