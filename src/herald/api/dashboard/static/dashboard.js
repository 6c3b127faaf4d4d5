// Herald's dashboard: small progressive enhancement over server-rendered pages. Every page
// works without it; with it the calendar takes drags, and the composer previews each
// platform's count and thread as you type and uploads files with their progress.
"use strict";

(function () {
  const main = document.getElementById("main");
  const csrf = main ? main.dataset.csrf || "" : "";

  function notify(text, isError) {
    const notice = document.getElementById("notice");
    if (!notice) return;
    notice.hidden = false;
    notice.textContent = text;
    notice.className = "notice " + (isError ? "error" : "ok");
  }

  async function postForm(url, fields) {
    const body = new URLSearchParams(fields);
    body.append("csrf", csrf);
    const response = await fetch(url, {
      method: "POST",
      body: body,
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    let answer = {};
    try {
      answer = await response.json();
    } catch (error) {
      answer = { message: "Herald answered " + response.status };
    }
    return { ok: response.ok, answer: answer };
  }

  // Calendar: drag a draft or scheduled post onto another day.
  function enableDragging() {
    document.querySelectorAll('.post[draggable="true"]').forEach(function (post) {
      post.addEventListener("dragstart", function (event) {
        event.dataTransfer.setData("text/plain", post.dataset.post);
        event.dataTransfer.effectAllowed = "move";
      });
    });
    document.querySelectorAll(".day[data-day]").forEach(function (day) {
      day.addEventListener("dragover", function (event) {
        event.preventDefault();
        day.classList.add("drop");
      });
      day.addEventListener("dragleave", function () {
        day.classList.remove("drop");
      });
      day.addEventListener("drop", async function (event) {
        event.preventDefault();
        day.classList.remove("drop");
        const id = event.dataTransfer.getData("text/plain");
        const post = document.querySelector('.post[data-post="' + CSS.escape(id) + '"]');
        if (!post) return;
        const result = await postForm("/posts/" + encodeURIComponent(id) + "/move", {
          day: day.dataset.day,
        });
        if (result.ok) day.appendChild(post);
        notify(result.answer.message || "", !result.ok);
      });
    });
  }

  // Composer: the per-platform preview, from the same rules the engine plans with.
  function renderPreviews(target, previews) {
    target.replaceChildren();
    previews.forEach(function (preview) {
      const article = document.createElement("article");
      article.dataset.platformId = preview.platformId;
      const title = document.createElement("h3");
      title.textContent = preview.platformId;
      const count = document.createElement("p");
      count.className = "count" + (preview.length > preview.limit ? " over" : "");
      count.textContent =
        preview.length + " / " + preview.limit + " characters" +
        (preview.parts.length > 1 ? " · " + preview.parts.length + " posts in a thread" : "");
      article.append(title, count);
      if (preview.error) {
        const error = document.createElement("p");
        error.className = "over";
        error.textContent = preview.error;
        article.append(error);
      }
      const parts = document.createElement("ol");
      preview.parts.forEach(function (part) {
        const item = document.createElement("li");
        item.textContent = part;
        parts.append(item);
      });
      article.append(parts);
      target.append(article);
    });
  }

  function enableComposer(form) {
    const preview = document.getElementById("preview");
    let timer = null;
    function fields(action) {
      const data = new FormData(form);
      data.delete("csrf");
      if (action) data.set("action", action);
      return data;
    }
    async function refresh() {
      const data = fields();
      if (!data.getAll("platform").length) return;
      const result = await postForm("/compose/preview", data);
      if (result.ok) renderPreviews(preview, result.answer.previews || []);
    }
    form.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, 200);
    });
    form.addEventListener("submit", async function (event) {
      const input = document.getElementById("files");
      const files = input ? input.files : [];
      // No files (or an edit, whose files stay as they are): the plain form post does it all.
      if (!files.length) return;
      event.preventDefault();
      const action = event.submitter ? event.submitter.value : "schedule";
      const created = await postForm("/compose", fields("draft"));
      if (!created.ok) return notify(created.answer.message, true);
      const id = encodeURIComponent(created.answer.postId);
      const progress = document.getElementById("upload-progress");
      progress.hidden = false;
      for (const file of files) {
        const ticket = await postForm("/posts/" + id + "/upload-url", {
          fileName: file.name,
          contentType: file.type,
        });
        if (!ticket.ok) return notify(ticket.answer.message, true);
        const sent = await upload(ticket.answer, file, progress);
        if (!sent) return notify("The upload of " + file.name + " failed.", true);
      }
      const finished = await postForm("/posts/" + id + "/finish", fields(action));
      if (!finished.ok) return notify(finished.answer.message, true);
      window.location.assign("/posts/" + id);
    });
  }

  function upload(ticket, file, progress) {
    return new Promise(function (resolve) {
      const request = new XMLHttpRequest();
      request.open("PUT", ticket.uploadUrl);
      request.setRequestHeader("Content-Type", ticket.putType);
      request.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) progress.value = (100 * event.loaded) / event.total;
      });
      request.addEventListener("load", function () {
        progress.value = 100;
        resolve(request.status >= 200 && request.status < 300);
      });
      request.addEventListener("error", function () {
        resolve(false);
      });
      request.send(file);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    enableDragging();
    const composer = document.getElementById("composer");
    if (composer) enableComposer(composer);
  });
})();
