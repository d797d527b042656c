//! [`Navigator`]: where a caller is in the menu, as a pure state machine.
//!
//! The bot feeds it what the caller did ([`Input`]) and carries out the [`Step`]
//! it answers with; no I/O happens here, so the whole tree logic (tries, repeat,
//! back, sub-menus, failure) is tested without a call.

use voicebot_bot::PromptSource;

use crate::menu::{Choice, Menu, Node};

/// What the caller did at the current node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Input<'a> {
    /// Typed these keys (may be empty when only a terminator was pressed).
    Keys(&'a str),
    /// Pressed nothing before the timeout.
    Timeout,
    /// The chosen transfer or route was refused; the caller is still here.
    Unavailable,
}

/// What the bot does next.
#[derive(Debug)]
pub(crate) enum Step<'m> {
    /// Play `notice` if any, then ask at `node` (its prompt, then gather).
    Ask {
        node: &'m Node,
        notice: Option<&'m PromptSource>,
    },
    /// Leave the menu: transfer, route, another bot or hang up.
    Run(&'m Choice),
}

/// A caller's position: the path of nodes from the start, and failed tries here.
#[derive(Debug)]
pub(crate) struct Navigator<'m> {
    menu: &'m Menu,
    path: Vec<&'m Node>,
    failures: u32,
}

impl<'m> Navigator<'m> {
    /// A caller arriving at `start`, and the first step (ask there).
    pub(crate) fn start(menu: &'m Menu, start: &str) -> (Self, Step<'m>) {
        let node = menu.node(start);
        let navigator = Self {
            menu,
            path: vec![node],
            failures: 0,
        };
        (navigator, Step::Ask { node, notice: None })
    }

    /// The node the caller is at.
    pub(crate) fn current(&self) -> &'m Node {
        self.path
            .last()
            .copied()
            .expect("the path always holds the start node")
    }

    /// Moves on after `input` and says what to do.
    pub(crate) fn input(&mut self, input: Input<'_>) -> Step<'m> {
        let node = self.current();
        match input {
            Input::Timeout => self.fail(node.timeout_prompt.as_ref()),
            Input::Unavailable => self.fail(self.menu.unavailable_prompt.as_ref()),
            Input::Keys(keys) if self.menu.repeat_key.as_deref() == Some(keys) => {
                Step::Ask { node, notice: None }
            }
            Input::Keys(keys) if self.menu.back_key.as_deref() == Some(keys) => {
                // At the start node there is nowhere to go back to: ask again.
                if self.path.len() > 1 {
                    self.path.pop();
                    self.failures = 0;
                }
                let node = self.current();
                Step::Ask { node, notice: None }
            }
            Input::Keys(keys) => match node.options.get(keys) {
                Some(choice) => self.choose(choice),
                None => self.fail(node.invalid_prompt.as_ref()),
            },
        }
    }

    fn choose(&mut self, choice: &'m Choice) -> Step<'m> {
        match choice {
            Choice::Menu(id) => {
                let node = self.menu.node(id);
                self.path.push(node);
                self.failures = 0;
                Step::Ask { node, notice: None }
            }
            other => Step::Run(other),
        }
    }

    fn fail(&mut self, notice: Option<&'m PromptSource>) -> Step<'m> {
        self.failures += 1;
        let node = self.current();
        match self.failures >= node.tries {
            true => {
                let menu = self.menu;
                self.choose(&menu.on_failure)
            }
            false => Step::Ask { node, notice },
        }
    }
}

#[cfg(test)]
mod tests;
