% Text
% Maria and Theo have been married since June 14th, 2009. Their daughter Lena was born on March 2nd, 2013, and has lived with them in their apartment ever since. In 2018, Maria earned $68000 in salary and Theo earned $21500. Maria and Theo file a joint return for 2018 and take the standard deduction.

% Question
% How much tax does Maria have to pay in 2018? $13543

% Facts
marriage_(maria_and_theo).
agent_(maria_and_theo,maria).
agent_(maria_and_theo,theo).
start_(maria_and_theo,"2009-06-14").
birth_(lena_is_born).
agent_(lena_is_born,lena).
start_(lena_is_born,"2013-03-02").
daughter_(lena_is_daughter).
agent_(lena_is_daughter,lena).
patient_(lena_is_daughter,maria).
patient_(lena_is_daughter,theo).
start_(lena_is_daughter,"2013-03-02").
residence_(family_residence).
agent_(family_residence,maria).
agent_(family_residence,theo).
agent_(family_residence,lena).
patient_(family_residence,apartment).
start_(family_residence,"2013-03-02").
income_(maria_salary).
agent_(maria_salary,maria).
amount_(maria_salary,68000).
start_(maria_salary,"2018-12-31").
income_(theo_salary).
agent_(theo_salary,theo).
amount_(theo_salary,21500).
start_(theo_salary,"2018-12-31").
joint_return_(maria_and_theo_joint_return).
agent_(maria_and_theo_joint_return,maria).
agent_(maria_and_theo_joint_return,theo).
start_(maria_and_theo_joint_return,"2018-01-01").
end_(maria_and_theo_joint_return,"2018-12-31").

% Test
:- tax(maria,2018,13543).
