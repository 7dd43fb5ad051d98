% Text
% Ned is Max's brother. Ola is Ned's daughter, born March 30th, 2009.
% By hand: Ola bears to the taxpayer Max a relationship of §152(c)(2) (a descendant of his
% brother, (c)(2)(B)), so §152(c)(1)(A) holds.

% Question
% Ola bears a relationship to Max described in section 152(c)(1)(A) for the year 2017. Entailment

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
:- s152_c_1_A(ola,max,2017).
:- halt.
