% Text
% Alice and Bob are married.
% By hand: nothing is dated; asked without a year, §68(f) applies in the years 2018 to 2025.

% Question
% Section 68(f) applies to Alice. Entailment

% Facts
:- [statutes/prolog/init].
marriage_(alice_and_bob).
agent_(alice_and_bob,alice).
agent_(alice_and_bob,bob).

% Test
:- s68_f(_).
:- halt.
