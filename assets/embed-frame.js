// In a page another site frames (/embed/...): tells the framing page how
// high this one is, so that it can show it whole without a scrollbar.
// The host listens for {type: "newsfeed:height", height} (README, "Embedding").
"use strict";
if (window.parent !== window) {
  let sent = 0;
  const post = () => {
    const height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height === sent) return;
    sent = height;
    window.parent.postMessage({ type: "newsfeed:height", height }, "*");
  };
  new ResizeObserver(post).observe(document.documentElement);
  addEventListener("load", post);
}
