/** Stand-ins for the layout jsdom does not do, for components that measure themselves (the message list). */
import { vi } from "vitest";

/** jsdom has no layout observers; the message list only needs them to exist. */
export function stubResizeObserver() {
  globalThis.ResizeObserver ??= class {
    observe() {}
    unobserve() {}
    disconnect() {}
  } as unknown as typeof ResizeObserver;
}

/** Every element says it is `height` px high and 800 px wide, and 8000 px tall inside (undone by vi.restoreAllMocks). */
export function fakeBoxSize(height: number) {
  vi.spyOn(HTMLElement.prototype, "clientHeight", "get").mockReturnValue(height);
  vi.spyOn(HTMLElement.prototype, "clientWidth", "get").mockReturnValue(800);
  vi.spyOn(HTMLElement.prototype, "scrollHeight", "get").mockReturnValue(8000);
}
