% Text
% Hana is Gina's sister. Ivo is Hana's son, born September 12th, 2003.
% By hand: the question asks whether Gina is a son or daughter of a brother or sister of the
% taxpayer Ivo (§152(d)(2)(E)): she is his aunt, so no (the reverse, Ivo her nephew, holds).

% Question
% Gina bears a relationship to Ivo under section 152(d)(2)(E) for the year 2017. Contradiction

% Facts
:- [statutes/prolog/init].
sister_(hana_sister_of_gina).
agent_(hana_sister_of_gina,hana).
patient_(hana_sister_of_gina,gina).
son_(ivo_son_of_hana).
agent_(ivo_son_of_hana,ivo).
patient_(ivo_son_of_hana,hana).
start_(ivo_son_of_hana,"2003-09-12").

% Test
:- s152_d_2_E(gina,ivo,2017).
:- halt.
