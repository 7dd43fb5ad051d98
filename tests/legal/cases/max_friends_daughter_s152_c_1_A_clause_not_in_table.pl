% Text
% Ned is Max's friend. Ola is Ned's daughter, born March 30th, 2009.
% By hand: Ola is no child, sibling or descendant of either of Max's, nor Max of hers:
% §152(c)(1)(A) holds in neither order.

% Question
% Max bears a relationship to Ola described in section 152(c)(1)(A) for the year 2017. Contradiction

% Facts
:- [statutes/prolog/init].
friendship_(ned_friend_of_max).
agent_(ned_friend_of_max,ned).
patient_(ned_friend_of_max,max).
daughter_(ola_daughter_of_ned).
agent_(ola_daughter_of_ned,ola).
patient_(ola_daughter_of_ned,ned).
start_(ola_daughter_of_ned,"2009-03-30").

% Test
:- s152_c_1_A(max,ola,2017).
:- halt.
