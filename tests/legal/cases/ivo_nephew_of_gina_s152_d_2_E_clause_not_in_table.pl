% Text
% Hana is Gina's sister. Ivo is Hana's son, born September 12th, 2003.
% By hand: Ivo is a son of a sister of the taxpayer Gina, §152(d)(2)(E). The question names
% the nephew first.

% Question
% Ivo is the son of a sister of Gina under section 152(d)(2)(E) for the year 2017. Entailment

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
:- s152_d_2_E(ivo,gina,2017).
:- halt.
