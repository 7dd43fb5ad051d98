% Text
% Ned is Max's brother. Ola is Ned's daughter, born March 30th, 2009.
% By hand: the question asks whether Max bears to the taxpayer Ola a relationship of
% §152(c)(2) ((c)(1)(A)): an uncle is none of (c)(2)(A) or (B), so no (the reverse holds).

% Question
% Max bears a relationship to Ola described in section 152(c)(1)(A) for the year 2017. Contradiction

% Facts
:- [statutes/prolog/init].
brother_(ned_brother_of_max).
agent_(ned_brother_of_max,ned).
patient_(ned_brother_of_max,max).
daughter_(ola_daughter_of_ned).
agent_(ola_daughter_of_ned,ola).
patient_(ola_daughter_of_ned,ned).
start_(ola_daughter_of_ned,"2009-03-30").

% Test
:- s152_c_1_A(max,ola,2017).
:- halt.
