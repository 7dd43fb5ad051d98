% Text
% Alice married Bob on June 1st, 2015.
% By hand: asked without a year, §68(f) applies in the years 2018 to 2025; the marriage's date does
% not restrict the question to 2015.

% Question
% Section 68(f) applies to Alice. Entailment

% Facts
:- [statutes/prolog/init].
marriage_(alice_and_bob).
agent_(alice_and_bob,alice).
agent_(alice_and_bob,bob).
start_(alice_and_bob,"2015-06-01").

% Test
:- s68_f(_).
:- halt.
