% Text
% Alice has never married and lives alone. She was paid $400000 in 2016.
% By hand: not a head of household: §68(b)(1)(B) does not give her $275,000.

% Question
% Under section 68(b)(1)(B), Alice's applicable amount for 2016 is equal to $275000. Contradiction

% Facts
:- [statutes/prolog/init].
payment_(alice_is_paid).
patient_(alice_is_paid,alice).
amount_(alice_is_paid,400000).
start_(alice_is_paid,"2016-12-31").

% Test
:- \+ s68_b_1_B(alice,275000,2016).
:- halt.
