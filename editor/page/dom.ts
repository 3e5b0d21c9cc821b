/** A new element with a class (text goes in by textContent, never as HTML). */
export function element<K extends keyof HTMLElementTagNameMap>(tag: K, className: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  return node;
}

/** A plain button. */
export function button(text: string, className: string, onClick: () => void, label?: string): HTMLButtonElement {
  const node = element('button', className);
  node.type = 'button';
  node.textContent = text;
  if (label) {
    node.title = label;
    node.setAttribute('aria-label', label);
  }
  node.addEventListener('click', onClick);
  return node;
}
