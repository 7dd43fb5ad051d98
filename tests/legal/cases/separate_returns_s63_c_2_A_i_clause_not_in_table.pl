% Text
% Alice and Bob have been married since 2001 and file separate returns for 2017.
% By hand: no joint return: §63(c)(2)(A)(i) does not apply.

% Question
% Section 63(c)(2)(A)(i) applies to Alice in 2017. Contradiction

% Facts
:- [statutes/prolog/init].
marriage_(alice_and_bob).
agent_(alice_and_bob,alice).
agent_(alice_and_bob,bob).
start_(alice_and_bob,"2001-05-05").

% Test
:- \+ s63_c_2_A_i(alice,2017).
:- halt.
