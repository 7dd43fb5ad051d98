% Text
% Hana is Gina's friend, not her sister. Ivo is Hana's son, born September 12th, 2003.
% By hand: Ivo is no son of a brother or sister of Gina, nor Gina of Ivo's: §152(d)(2)(E)
% holds in neither order.

% Question
% Gina bears a relationship to Ivo under section 152(d)(2)(E) for the year 2017. Contradiction

% Facts
:- [statutes/prolog/init].
friendship_(hana_friend_of_gina).
agent_(hana_friend_of_gina,hana).
patient_(hana_friend_of_gina,gina).
son_(ivo_son_of_hana).
agent_(ivo_son_of_hana,ivo).
patient_(ivo_son_of_hana,hana).
start_(ivo_son_of_hana,"2003-09-12").

% Test
:- s152_d_2_E(gina,ivo,2017).
:- halt.
