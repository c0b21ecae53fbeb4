/** The whole app signed in as alice, for component tests that mock socket.io-client with fakeSocketIo. */
import { render } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { ChatApp } from "../components/ChatApp";
import { fakeFetch, type Answer } from "./fakeFetch";

/** Renders ChatApp over these REST routes; gives the recorded calls and a user to act with. */
export function renderChatApp(routes: Record<string, Answer>) {
  const calls = fakeFetch(routes);
  const user = userEvent.setup();
  render(<ChatApp username="alice" onSignedOut={() => {}} />);
  return { calls, user };
}
